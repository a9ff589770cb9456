namespace Snapper.Store;

/// <summary>
/// One session loaded for reporting: interned frames, the stack prefix tree nodes its samples use, its threads,
/// snapshots and samples. Ids index the dictionaries; a stack id of 0 is the empty stack.
/// </summary>
public sealed class Profile
{
    public required SessionInfo Session { get; init; }

    /// <summary>
    /// The sessions this profile holds: just <see cref="Session"/>, or for a profile aggregated over several
    /// (see <see cref="ProfileReader.LoadMany"/>) each of them, oldest first, while <see cref="Session"/> sums them up.
    /// </summary>
    public IReadOnlyList<SessionInfo> Sessions { get => _sessions ?? [Session]; init => _sessions = value; }

    IReadOnlyList<SessionInfo>? _sessions;
    public required IReadOnlyDictionary<int, FrameInfo> Frames { get; init; }
    public required IReadOnlyDictionary<int, StackNode> Stacks { get; init; }
    public required IReadOnlyList<ThreadInfo> Threads { get; init; }
    public required IReadOnlyList<Snapshot> Snapshots { get; init; }
    public required IReadOnlyList<Sample> Samples { get; init; }

    /// <summary>The locks the session's threads were seen waiting for (schema 8; none for older sessions).</summary>
    public IReadOnlyList<LockInfo> Locks { get; init; } = [];

    /// <summary>The samples blocked entering one of <see cref="Locks"/>, with the holder at that snapshot, in snapshot order.</summary>
    public IReadOnlyList<LockWaitSample> LockWaits { get; init; } = [];

    /// <summary>The same profile with only <paramref name="samples"/> (and, when given, only <paramref name="threads"/>).</summary>
    public Profile WithSamples(IReadOnlyList<Sample> samples, IReadOnlyList<ThreadInfo>? threads = null) => new()
    {
        Session = Session,
        Sessions = Sessions,
        Frames = Frames,
        Stacks = Stacks,
        Threads = threads ?? Threads,
        Snapshots = Snapshots,
        Samples = samples,
        Locks = Locks,
        LockWaits = LockWaits,
    };

    /// <summary>The frame ids of a stack, outermost first.</summary>
    public int[] FramesOf(int stackId)
    {
        var frames = new List<int>();
        for (var id = stackId; id != 0; id = Stacks[id].Parent)
            frames.Add(Stacks[id].FrameId);
        frames.Reverse();
        return frames.ToArray();
    }
}
