namespace Snapper.Store;

/// <summary>What produced a frame: the target's managed code, a runtime transition (P/Invoke, helper frame), or native code.</summary>
public enum FrameKind
{
    Managed = 0,
    Transition = 1,
    Native = 2,
}

/// <summary>How a capture ended. Stored as text so old databases stay readable when values are added.</summary>
public enum SessionEndReason
{
    /// <summary>Still running, or Snapper died before it could record an end (found so on the next open).</summary>
    Running,
    CountReached,
    DurationReached,
    Interrupted,
    TargetExited,
    Failed,
    Abandoned,

    /// <summary>sample --focus-count: that many focused samples were kept.</summary>
    FocusCountReached,
}

/// <summary>
/// One interned frame. <see cref="Module"/> is the assembly or native library file name without directory.
/// <see cref="TypeName"/> is empty for transition and native frames; <see cref="File"/> is null when no PDB was found.
/// </summary>
public sealed record FrameInfo(FrameKind Kind, string Module, string TypeName, string MethodName, string? File = null, int Line = 0)
{
    /// <summary>The short name people read in a flame graph: <c>Type.Method</c>, or just the method for non-managed frames.</summary>
    public string DisplayName => TypeName.Length == 0 ? MethodName : TypeName + "." + MethodName;
}

/// <summary>
/// A thread seen in a session. <see cref="Name"/> is the managed Thread.Name (null when the thread has none),
/// <see cref="OsName"/> the kernel's name for it (comm, 15 characters at most), <see cref="Role"/> what the runtime
/// uses it for when that can be recognised ("thread pool worker", "finalizer", "main", ...).
/// </summary>
public sealed record ThreadInfo(int Id, int OsThreadId, int ManagedThreadId, string? Name, string? OsName = null, string? Role = null)
{
    /// <summary>The best name to show: the managed name, else the runtime role, else the OS name.</summary>
    public string DisplayName => DisplayNameOf(Name, Role, OsName, ManagedThreadId);

    /// <summary><see cref="DisplayName"/> of a thread known by these names (a thread not stored, as <c>snapper dump</c> shows it).</summary>
    public static string DisplayNameOf(string? name, string? role, string? osName, int managedThreadId) =>
        name is { Length: > 0 } ? name
        : role is { Length: > 0 } ? role
        : osName is { Length: > 0 } ? osName
        : $"Thread {managedThreadId}";

    /// <summary>The display name with the OS thread id; just the name for a thread merged over several sessions (no single tid).</summary>
    public string Label => OsThreadId == 0 ? DisplayName : $"{DisplayName} (tid {OsThreadId})";
}

/// <summary>What a session is about, fixed when it starts.</summary>
public sealed record SessionTarget(
    int Pid,
    string ProcessName,
    string CommandLine,
    string RuntimeVersion,
    string Host,
    string Engine,
    double RequestedRate,
    int MaxFrames,
    string SnapperCommandLine,
    string Architecture = "x64")
{
    /// <summary>
    /// The engine read each thread's run state from the kernel at each snapshot: a sample in a system call whose thread
    /// was runnable is "cpu", so "lock/wait" means asleep (see <see cref="BetweenSamples"/>). False for sessions
    /// written before (schema 6) and for engines that cannot tell.
    /// </summary>
    public bool KnowsRunState { get; init; }
}

/// <summary>
/// What a capture cost the target, and what its budget (<c>sample --max-overhead</c>) made Snapper do. Overhead is the
/// larger of two shares of the capture's wall time: the time any thread of the target was held stopped
/// (<see cref="PauseShare"/>), and Snapper's own CPU time as a share of one core (<see cref="CpuShare"/>).
/// <see cref="Budget"/> is null when the capture had none (it was only measured).
/// </summary>
public sealed record OverheadRecord(double? Budget, double PauseShare, double CpuShare, IReadOnlyList<RateChange> Changes)
{
    public double Overhead => Math.Max(PauseShare, CpuShare);

    /// <summary>The largest weight the capture used: 1 when the budget never lowered the rate.</summary>
    public int MaxWeight => Changes.Count == 0 ? 1 : Math.Max(1, Changes.Max(c => c.Weight));
}

/// <summary>
/// From <see cref="OffsetUs"/> on, one snapshot in <see cref="Weight"/> requested intervals was taken (1: the requested
/// rate again), decided on the shares measured over the time just before.
/// </summary>
public sealed record RateChange(long OffsetUs, int Weight, double PauseShare, double CpuShare);

/// <summary>A stored session with what is known about how it went.</summary>
public sealed record SessionInfo(
    long Id,
    SessionTarget Target,
    DateTime StartedUtc,
    DateTime? EndedUtc,
    SessionEndReason EndReason,
    string? EndMessage,
    int SnapshotCount,
    int LateCount,
    int FailedCount,
    long SampleCount,
    double AchievedRate,
    PauseStats Pause,
    FocusCounts? Focus = null)
{
    /// <summary>
    /// Snapper's own errors during the capture (its bugs, not snapshots the target made impossible: those are
    /// <see cref="FailedCount"/>), most frequent first; empty for a capture that had none, or was written before they
    /// were recorded.
    /// </summary>
    public IReadOnlyList<InternalError> InternalErrors { get; init; } = [];

    /// <summary>Its overhead and budget; null for a session written before they were recorded (or still running).</summary>
    public OverheadRecord? Overhead { get; init; }
}

/// <summary>
/// An exception that is a bug in Snapper (a NullReferenceException, an index out of range, ...), which cost
/// <see cref="Count"/> snapshots of a capture. <see cref="Reason"/> is its type, where it was thrown and the first line
/// of its message.
/// </summary>
public sealed record InternalError(string Reason, int Count);

/// <summary>
/// A capture or report narrowed to the samples whose stack has a frame matching <see cref="Pattern"/> (a .NET regular
/// expression on <c>Type.Method</c>): <see cref="Seen"/> thread samples were looked at, <see cref="Kept"/> of them matched.
/// </summary>
public sealed record FocusCounts(string Pattern, long Seen, long Kept);

/// <summary>The pause Snapper imposed on the target: per snapshot, the time any of its threads was held, in microseconds.</summary>
public sealed record PauseStats(long P50Us, long P99Us, long MaxUs)
{
    public static readonly PauseStats None = new(0, 0, 0);

    public static PauseStats From(IReadOnlyList<long> pausesUs)
    {
        if (pausesUs.Count == 0) return None;
        var sorted = pausesUs.ToArray();
        Array.Sort(sorted);
        return new PauseStats(Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted[^1]);
    }

    /// <summary>Nearest-rank percentile over a sorted array.</summary>
    static long Percentile(long[] sorted, double p)
    {
        var rank = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}

/// <summary>
/// One stop of the target: every thread's stack was read at <see cref="OffsetUs"/> after the session start.
/// <see cref="Weight"/> is how many requested intervals it stands for: 1, or more while an overhead budget lowered the
/// rate (see <see cref="OverheadRecord"/>); each of its samples counts that many times.
/// </summary>
public sealed record Snapshot(int Sequence, long OffsetUs, long PauseUs, bool Late, int Weight = 1);

/// <summary>
/// One thread's stack in one snapshot. <see cref="StackId"/> is the leaf node of the stack prefix tree, 0 for an empty
/// stack. <see cref="Syscall"/> is the system call number the thread was in (-1 when none or unknown; see
/// <see cref="SyscallNames"/>), <see cref="CpuNs"/> the CPU time the thread used since its previous sample.
/// </summary>
/// <see cref="Weight"/> is its snapshot's (<see cref="Snapshot.Weight"/>), set as a profile is loaded.
public readonly record struct Sample(int Sequence, int ThreadId, int StackId, SampleState State = SampleState.Unknown,
    SampleActivity Activity = SampleActivity.Unknown, int Syscall = -1, long CpuNs = 0, int Weight = 1)
{
    /// <summary>
    /// How many wall-clock samples this one counts as: its snapshot's weight (1 at the requested rate, k when an
    /// overhead budget took one snapshot in k), or 0 for the CPU a blocked thread used between snapshots (see
    /// <see cref="BetweenSamples"/>), which is no sight of the thread. Every count of samples adds this up, so shares
    /// stay right when the rate changes during a capture. CPU time (<see cref="CpuNs"/>) is measured, never weighted.
    /// </summary>
    public int Wall => Activity == SampleActivity.BetweenSamples ? 0 : Weight;
}

/// <summary>A node of the stack prefix tree: <see cref="Parent"/> is 0 at the root (the outermost frame).</summary>
public readonly record struct StackNode(int Id, int Parent, int FrameId);

/// <summary>Who a thread is, as the sampler knows it at one moment (see <see cref="ThreadInfo"/> for the fields).</summary>
public sealed record ThreadIdentity(int ManagedThreadId, string? Name, string? OsName, string? Role);
