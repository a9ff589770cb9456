using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>
/// One thread's stack in one snapshot, outermost frame first, with what the thread was doing: where its instruction
/// pointer was (<see cref="Activity"/>, and the system call number when in one) and the CPU time it used since its
/// previous sample.
/// </summary>
public sealed record ThreadStack(int OsThreadId, ThreadIdentity Identity, IReadOnlyList<FrameInfo> Frames)
{
    public SampleActivity Activity { get; init; }

    /// <summary>The system call the thread was in, -1 when none or unknown.</summary>
    public int Syscall { get; init; } = -1;

    public long CpuNs { get; init; }

    /// <summary>
    /// On a CPU or waiting for one at the snapshot (the kernel's state R), as read by an engine that knows
    /// (<see cref="IStackSource.KnowsRunState"/>): a thread in a system call then is running in the kernel or woken, not
    /// waiting. False when asleep, or not known.
    /// </summary>
    public bool Runnable { get; init; }

    /// <summary>The lock the thread was entering and its holder, in a one-stop snapshot (PtraceStackSource.CaptureAllAtOnce); null otherwise.</summary>
    public LockWait? WaitsFor { get; init; }
}

/// <summary>
/// Every managed thread's stack read while the target was stopped. <see cref="StartTicks"/> is the
/// <see cref="System.Diagnostics.Stopwatch"/> timestamp of the first stop; <see cref="Pause"/> runs from there to the last resume.
/// </summary>
public sealed record CapturedSnapshot(long StartTicks, TimeSpan Pause, IReadOnlyList<ThreadStack> Threads);
