namespace Snapper.Sampling.Linux;

/// <summary>
/// What the kernel says about a thread, read without stopping it: running, or blocked in system call
/// <see cref="Syscall"/> (-1: stopped outside one) with that stack pointer and pc.
/// </summary>
/// <param name="Preempted">Runnable but not on a CPU, in user code, at <paramref name="StackPointer"/> and
/// <paramref name="ProgramCounter"/>: the registers it was interrupted with, exact until it runs again (see
/// <see cref="BpfThreadSurvey"/>). Only a running thread is preempted.</param>
readonly record struct ThreadActivity(bool Running, ulong StackPointer, ulong ProgramCounter, bool Gone = false, int Syscall = -1, bool Preempted = false)
{
    /// <summary>
    /// How often the thread has been switched off a CPU (0 when not known: read from /proc). A thread not on a CPU whose
    /// count is unchanged has not run in between: to run it must have been switched on, and so off again, or be on now.
    /// </summary>
    public ulong Switches { get; init; }

    /// <summary>On a CPU at the survey (as far as a survey that reads every thread at once can tell).</summary>
    public bool OnCpu { get; init; }

    /// <summary>Nothing known: treat as running (stop and walk it).</summary>
    public static readonly ThreadActivity Unknown = new(true, 0, 0);

    /// <summary>
    /// Whether registers read at a stop show the thread exactly where this survey saw it: the same stack pointer and pc,
    /// in user code when it was waiting for a CPU there, in a syscall when it was blocked in one. Anything else, it ran.
    /// </summary>
    public bool StillAt(in Native.UserRegs registers) =>
        registers.Rsp == StackPointer && registers.Rip == ProgramCounter && ((long)registers.OrigRax < 0) == Preempted;

    /// <summary>The thread no longer exists.</summary>
    public static readonly ThreadActivity Vanished = new(true, 0, 0, Gone: true);
}
