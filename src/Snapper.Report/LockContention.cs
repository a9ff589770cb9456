using System.Runtime.InteropServices;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// Who waited on which lock, from where, for whom, and what that holder was doing meanwhile: the report's view of
/// <see cref="Profile.LockWaits"/>, per lock, most waited first. Every share adds up <see cref="Sample.Wall"/> (a
/// snapshot taken at a lowered rate counts for the intervals it stands for; CPU-only samples are no sighting).
/// Numbers only; the writers format them.
/// </summary>
public sealed class LockContention
{
    /// <summary>Holder stacks listed per lock.</summary>
    public const int TopOwnerStacks = 5;

    /// <summary>Innermost frames shown of a holder's stack: enough to say what it was doing, short enough to scan.</summary>
    public const int OwnerStackFrames = 5;

    LockContention(long totalSamples, long totalSnapshots, IReadOnlyList<ContendedLock> locks)
    {
        TotalSamples = totalSamples;
        TotalSnapshots = totalSnapshots;
        Locks = locks;
    }

    /// <summary>The wall samples of the view: what <see cref="ContendedLock.WaitShare"/> is a share of.</summary>
    public long TotalSamples { get; }

    /// <summary>The snapshots of the profile, weighted: what <see cref="ContendedLock.SnapshotShare"/> is a share of.</summary>
    public long TotalSnapshots { get; }

    /// <summary>The locks some sample in the view waited on, most waited first (ties by type name, then id).</summary>
    public IReadOnlyList<ContendedLock> Locks { get; }

    /// <summary>
    /// The contention in <paramref name="profile"/>. A wait counts when its waiter's sample is in the view
    /// (<paramref name="inView"/>, every sample when null): a report's thread, focus, layer and idle selection applies
    /// to the waiters. Holders are looked up in <paramref name="holders"/> (the profile before any selection; this one
    /// when null), since who held a lock and what it was doing is a fact about the lock, whichever threads are shown.
    /// </summary>
    public static LockContention Of(Profile profile, Func<Sample, bool>? inView = null, Profile? holders = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        holders ??= profile;
        // A blocked sample's CPU-only twin (BetweenSamples) has the same snapshot and thread: only the sighting is kept.
        var shown = new Dictionary<(int Sequence, int Thread), Sample>();
        long total = 0;
        foreach (var sample in profile.Samples)
        {
            if (sample.Wall == 0 || inView is not null && !inView(sample)) continue;
            total += sample.Wall;
            shown.TryAdd((sample.Sequence, sample.ThreadId), sample);
        }
        var snapshots = profile.Snapshots.Sum(s => (long)s.Weight);
        if (profile.LockWaits.Count == 0) return new LockContention(total, snapshots, []);

        var locks = profile.Locks.ToDictionary(l => l.Id);
        var tallies = new Dictionary<int, Tally>();
        var sites = new Dictionary<int, Site>();
        foreach (var wait in profile.LockWaits)
        {
            if (!locks.ContainsKey(wait.LockId) || !shown.TryGetValue((wait.Sequence, wait.ThreadId), out var waiter)) continue;
            if (!tallies.TryGetValue(wait.LockId, out var tally)) tallies[wait.LockId] = tally = new Tally();
            tally.Add(wait, waiter, SiteOf(profile, waiter.StackId, sites));
        }
        var table = new HolderTable(holders);
        var result = tallies
            .Select(pair => pair.Value.Report(locks[pair.Key], total, snapshots, table))
            .OrderByDescending(l => l.WaitSamples).ThenBy(l => l.Lock.TypeName, StringComparer.Ordinal).ThenBy(l => l.Lock.Id)
            .ToList();
        return new LockContention(total, snapshots, result);
    }

    /// <summary>
    /// The contention a report shows: the waits of the samples it shows (idle ones only with <paramref name="includeIdle"/>,
    /// as the analysis decided), holders from <paramref name="whole"/>, the profile before the report's selection.
    /// </summary>
    internal static LockContention InReport(Profile whole, Profile shown, ProfileAnalysis analysis, bool includeIdle) =>
        Of(shown, includeIdle ? null : s => !analysis.SampleLayers.IsIdle(s), whole);

    /// <summary>
    /// Where the lock was taken: from the leaf outward, past the lock's own methods, the waits under them
    /// (System.Threading.*) and the runtime's transition and native frames, the first other frame.
    /// </summary>
    static Site SiteOf(Profile profile, int stackId, Dictionary<int, Site> known)
    {
        if (known.TryGetValue(stackId, out var site)) return site;
        site = default;
        for (var id = stackId; id != 0 && profile.Stacks.TryGetValue(id, out var node); id = node.Parent)
        {
            if (!profile.Frames.TryGetValue(node.FrameId, out var frame) || IsLockMachinery(frame)) continue;
            site = new Site(frame.DisplayName, frame.File, frame.File is null ? 0 : frame.Line);
            break;
        }
        return known[stackId] = site;
    }

    /// <summary>The lock's own frames and its wait's: System.Threading's, a P/Invoke's IL stub (under Lock.TryEnterSlow), the runtime's.</summary>
    static bool IsLockMachinery(FrameInfo frame) =>
        frame.Kind != FrameKind.Managed || frame.TypeName.StartsWith("System.Threading.", StringComparison.Ordinal)
        || frame.MethodName.StartsWith("IL_STUB", StringComparison.Ordinal);

    /// <summary>A place a lock is taken; all null when no frame of the waiter's stack qualified.</summary>
    readonly record struct Site(string? Frame, string? File, int Line);

    /// <summary>The holders' threads and sightings (their wall samples by snapshot and thread).</summary>
    sealed class HolderTable(Profile holders)
    {
        readonly Dictionary<(int Sequence, int Thread), Sample> _samples = WallSamples(holders);
        readonly Dictionary<int, string> _stackKeys = new();

        public Profile Profile { get; } = holders;

        public bool TrySample(int sequence, int thread, out Sample sample) => _samples.TryGetValue((sequence, thread), out sample);

        /// <summary>The innermost <see cref="OwnerStackFrames"/> frames' names, leaf first.</summary>
        public IReadOnlyList<string> Frames(int stackId)
        {
            var frames = new List<string>();
            for (var id = stackId; id != 0 && frames.Count < OwnerStackFrames && Profile.Stacks.TryGetValue(id, out var node); id = node.Parent)
                if (Profile.Frames.TryGetValue(node.FrameId, out var frame)) frames.Add(frame.DisplayName);
            return frames;
        }

        /// <summary>Stacks that differ only outside the shown frames, or in lines of a shown method, read the same: one key.</summary>
        public string Key(int stackId)
        {
            if (_stackKeys.TryGetValue(stackId, out var key)) return key;
            return _stackKeys[stackId] = string.Join('\n', Frames(stackId));
        }

        static Dictionary<(int, int), Sample> WallSamples(Profile profile)
        {
            var samples = new Dictionary<(int, int), Sample>();
            foreach (var sample in profile.Samples)
                if (sample.Wall > 0) samples.TryAdd((sample.Sequence, sample.ThreadId), sample);
            return samples;
        }
    }

    /// <summary>One lock's waits, added up as they are read.</summary>
    sealed class Tally
    {
        long _wall, _unnamed;
        readonly HashSet<int> _waiters = new();
        readonly Dictionary<int, int> _snapshots = new(); // sequence -> weight
        readonly Dictionary<Site, long> _sites = new();
        readonly Dictionary<int, long> _owners = new();
        readonly HashSet<(int Sequence, int Owner)> _sightings = new(); // each holder once per snapshot, however many waited

        public void Add(LockWaitSample wait, Sample waiter, Site site)
        {
            _wall += waiter.Wall;
            _waiters.Add(wait.ThreadId);
            _snapshots[wait.Sequence] = waiter.Weight;
            CollectionsMarshal.GetValueRefOrAddDefault(_sites, site, out _) += waiter.Wall;
            if (wait.OwnerThreadId is { } owner)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(_owners, owner, out _) += waiter.Wall;
                _sightings.Add((wait.Sequence, owner));
            }
            else _unnamed += waiter.Wall;
        }

        public ContendedLock Report(LockInfo info, long totalSamples, long totalSnapshots, HolderTable holders)
        {
            double Of(long part, long whole) => whole == 0 ? 0 : (double)part / whole;
            var takenAt = _sites
                .Select(s => new LockSite(s.Key.Frame, s.Key.File, s.Key.Line, s.Value, Of(s.Value, _wall)))
                .OrderByDescending(s => s.Samples).ThenBy(s => s.Frame, StringComparer.Ordinal)
                .ThenBy(s => s.File, StringComparer.Ordinal).ThenBy(s => s.Line)
                .ToList();
            var threads = SampledThreads.Table(holders.Profile, _owners.Keys);
            var owners = _owners
                .Select(o => new LockOwner(threads[o.Key], o.Value, Of(o.Value, _wall)))
                .OrderByDescending(o => o.Samples).ThenBy(o => o.Thread.DisplayName, StringComparer.Ordinal).ThenBy(o => o.Thread.Id)
                .ToList();
            var stacks = new Dictionary<(string Key, SampleState State), (int StackId, long Samples)>();
            long seen = 0;
            foreach (var (sequence, owner) in _sightings)
            {
                if (!holders.TrySample(sequence, owner, out var sample)) continue; // the holder was not sampled then
                seen += sample.Wall;
                ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(stacks, (holders.Key(sample.StackId), sample.State), out _);
                entry.StackId = sample.StackId;
                entry.Samples += sample.Wall;
            }
            var ownerStacks = stacks
                .Select(s => new OwnerStack(holders.Frames(s.Value.StackId), s.Key.State, s.Value.Samples, Of(s.Value.Samples, seen)))
                .OrderByDescending(s => s.Samples).ThenBy(s => string.Join('\n', s.Frames), StringComparer.Ordinal).ThenBy(s => s.State)
                .Take(TopOwnerStacks)
                .ToList();
            return new ContendedLock(info, _wall, Of(_wall, totalSamples), _waiters.Count, Of(_snapshots.Values.Sum(w => (long)w), totalSnapshots),
                takenAt, owners, Of(_unnamed, _wall), seen, ownerStacks);
        }
    }
}

/// <summary>
/// One lock threads waited to enter. <see cref="WaitSamples"/> are the waiting samples (weighted), <see cref="WaitShare"/>
/// their share of all samples in the view, <see cref="SnapshotShare"/> the share of snapshots (weighted) in which at
/// least one thread waited on it. <see cref="OwnerSamples"/> are the holders' own samples in the snapshots where a waiter
/// named them, each holder once per snapshot: what <see cref="OwnerStacks"/> shares are of.
/// </summary>
public sealed record ContendedLock(
    LockInfo Lock,
    long WaitSamples,
    double WaitShare,
    int WaiterThreads,
    double SnapshotShare,
    IReadOnlyList<LockSite> TakenAt,
    IReadOnlyList<LockOwner> Owners,
    double UnnamedOwnerShare,
    long OwnerSamples,
    IReadOnlyList<OwnerStack> OwnerStacks);

/// <summary>
/// A frame that called the lock's Enter in the waiters' stacks, with its share of the lock's waits. <see cref="Frame"/>
/// is null when no waiter's stack had one; <see cref="File"/> null (and <see cref="Line"/> 0) without a PDB.
/// </summary>
public sealed record LockSite(string? Frame, string? File, int Line, long Samples, double Share);

/// <summary>A thread named as the lock's holder, with the share of the lock's waiting samples that named it.</summary>
public sealed record LockOwner(ThreadInfo Thread, long Samples, double Share);

/// <summary>What holders were doing while others waited: their innermost frames (leaf first) and state, with its share.</summary>
public sealed record OwnerStack(IReadOnlyList<string> Frames, SampleState State, long Samples, double Share);
