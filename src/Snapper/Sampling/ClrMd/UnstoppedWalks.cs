using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Takes the stacks of threads that are not on a CPU without stopping them. A thread asleep in a syscall, or runnable
/// and waiting for a CPU, resumes with the user registers the kernel saved when it entered the kernel, and the survey
/// reads those (<see cref="IThreadSurvey.TryRegisters"/>); its stack, and the word of its Thread naming its innermost
/// runtime Frame, change only when it runs. So they are copied (<see cref="Copy"/>, one system call for all) right
/// after the first survey, and the threads are surveyed again just before the others are asked to stop (<see cref="MovedSinceSurvey"/>): a thread not on a CPU
/// whose switch count is unchanged has not run in between (to run it must have been switched on, and so off again, or
/// be on a CPU now), so its copy is what a stop would have found. One that ran is stopped and walked with the others.
/// The copies are walked right after the stops are asked for (<see cref="WalkAll"/>), fast and from the copies alone
/// (<see cref="FastWalk.FastWalking.TryWalkSealed"/>), while the threads that had to be stopped make their way into
/// their stops; a thread whose walk needs the DAC is then asked to stop too, and walked with them. On a loaded web service most threads that changed stacks since the last sample
/// wait for a CPU at the next: stopping one meant waiting for it to get a CPU, and holding all while each was walked.
/// SNAPPER_UNSTOPPED_WALK=off stops them as before (for comparison).
/// </summary>
sealed class UnstoppedWalks(FastWalk.FastWalking fast, ILOffsets ilOffsets, NativeLeafRecovery recovery, int maxFrames)
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("SNAPPER_UNSTOPPED_WALK") != "off";

    readonly List<(ClrThread Thread, Native.UserRegs Registers, ulong StackLow, ulong StackHigh)> _candidates = [];
    readonly List<(ClrThread, ulong, ulong, ulong)> _copies = [];
    readonly HashSet<int> _dropped = [];

    /// <summary>The threads walked (the dropped ones left out).</summary>
    public List<(RawThread Thread, Native.UserRegs Registers)> Walked { get; } = [];

    /// <summary>The threads the walk from the copies could not do: they are stopped and walked.</summary>
    public List<int> Refused { get; } = [];

    public bool Any => _candidates.Count > _dropped.Count;

    /// <summary><see cref="WalkAll"/> has run this snapshot.</summary>
    public bool WalkedAll { get; private set; }

    public void Clear()
    {
        _candidates.Clear();
        _dropped.Clear();
        Walked.Clear();
        Refused.Clear();
        WalkedAll = false;
    }

    /// <summary>A thread to take without a stop, with the registers the survey read for it and the mapping of its stack.</summary>
    public void Add(ClrThread thread, in Native.UserRegs registers, (ulong Low, ulong High) stack) => _candidates.Add((thread, registers, stack.Low, stack.High));

    /// <summary>Copies what each thread's walk will read of it, in one system call.</summary>
    public void Copy()
    {
        _copies.Clear();
        foreach (var (thread, registers, low, high) in _candidates) _copies.Add((thread, registers.Rsp, low, high));
        fast.CopySealed(_copies);
    }

    /// <summary>Leaves out threads that ran after the survey, walked already or not (they are stopped instead).</summary>
    public void Drop(IReadOnlySet<int> moved)
    {
        foreach (var (thread, _, _, _) in _candidates)
            if (moved.Contains((int)thread.OSThreadId)) _dropped.Add((int)thread.OSThreadId);
        Walked.RemoveAll(walked => moved.Contains(walked.Thread.OsThreadId));
    }

    /// <summary>Walks every copied thread not dropped.</summary>
    public void WalkAll()
    {
        foreach (var (thread, registers, _, high) in _candidates)
        {
            var tid = (int)thread.OSThreadId;
            if (_dropped.Contains(tid)) continue;
            if (ClrStackWalker.WalkUnstopped(thread, registers, high, maxFrames, ilOffsets, fast, recovery) is { } walked) Walked.Add((walked, registers));
            else Refused.Add(tid);
        }
        WalkedAll = true;
    }
}
