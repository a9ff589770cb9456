namespace Snapper.Store;

/// <summary>
/// What a thread was doing in a sample, as a person would put it. Stored as its number: append new values, never
/// renumber.
/// </summary>
public enum SampleState
{
    /// <summary>Not recorded (a store written before states existed) or not decidable.</summary>
    Unknown = 0,

    /// <summary>On a CPU, or runnable: managed code, native code, or the kernel working for it.</summary>
    Cpu = 1,

    /// <summary>Blocked on a lock, a wait handle, a Monitor.Wait, a task, another process.</summary>
    LockWait = 2,

    /// <summary>Blocked in Thread.Sleep, nanosleep or clock_nanosleep.</summary>
    Sleep = 3,

    /// <summary>Blocked in file, pipe or socket I/O, or waiting for I/O readiness (epoll, poll, select).</summary>
    Io = 4,

    /// <summary>A thread-pool or runtime service thread parked waiting for work: noise in most views.</summary>
    IdleThreadPool = 5,
}

/// <summary>Where a thread's instruction pointer was when it was sampled.</summary>
public enum SampleActivity
{
    Unknown = 0,
    ManagedCode = 1,
    NativeCode = 2,

    /// <summary>In a system call (blocked, or running in the kernel); the sample's syscall number says which.</summary>
    Syscall = 3,

    /// <summary>
    /// Not a thread seen at a snapshot: the CPU time a thread blocked at that snapshot used since its previous one,
    /// made when a profile is loaded (see <see cref="BetweenSamples"/>) and never stored. It counts CPU, not wall time.
    /// </summary>
    BetweenSamples = 4,
}

/// <summary>
/// The one description of each thread state the reports use: its name, its short name (a column heading, the HTML's
/// <c>st-</c> class) and its colour. The text report, the HTML page (its CSS and its script get them from here) and the
/// layer rules (which name states by <see cref="Name(SampleState)"/>) all read them here; SampleStatesTests checks
/// that nothing else defines them.
/// </summary>
public static class SampleStates
{
    public static readonly SampleState[] All =
        [SampleState.Cpu, SampleState.LockWait, SampleState.Sleep, SampleState.Io, SampleState.IdleThreadPool, SampleState.Unknown];

    /// <summary>The short name used in reports, exports and on the command line.</summary>
    public static string Name(this SampleState state) => state switch
    {
        SampleState.Cpu => "cpu",
        SampleState.LockWait => "lock/wait",
        SampleState.Sleep => "sleep",
        SampleState.Io => "io",
        SampleState.IdleThreadPool => "idle threadpool",
        _ => "unknown",
    };

    /// <summary>"idle threadpool" is too wide for a column of percentages: the text report's headings and the HTML's classes.</summary>
    public static string ShortName(this SampleState state) => state switch
    {
        SampleState.LockWait => "wait",
        SampleState.IdleThreadPool => "idle",
        _ => state.Name(),
    };

    /// <summary>The state's colour in the HTML report (table underlines and the timeline).</summary>
    public static string Colour(this SampleState state) => state switch
    {
        SampleState.Cpu => "#2da44e",
        SampleState.LockWait => "#cf222e",
        SampleState.Sleep => "#8c959f",
        SampleState.Io => "#0969da",
        SampleState.IdleThreadPool => "#d0d7de",
        _ => "#eaeef2",
    };

    public static string Name(this SampleActivity activity) => activity switch
    {
        SampleActivity.ManagedCode => "managed code",
        SampleActivity.NativeCode => "native code",
        SampleActivity.Syscall => "syscall",
        SampleActivity.BetweenSamples => "between samples",
        _ => "unknown",
    };

    /// <summary>Idle-looking samples are hidden from reports unless asked for (see <c>--idle</c>).</summary>
    public static bool IsIdle(this SampleState state) => state == SampleState.IdleThreadPool;
}
