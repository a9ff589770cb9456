using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// The layer of each sample of one profile under a <see cref="LayerRules"/>. Samples repeat the same few stacks, so the
/// answer is kept per (stack, state, thread role) and a stack is walked once.
/// </summary>
public sealed class ProfileLayers
{
    readonly Profile _profile;
    readonly Dictionary<int, string?> _roles;
    readonly Dictionary<(int Stack, SampleState State, string? Role), int> _cache = new();
    readonly Dictionary<string, int> _index;

    public ProfileLayers(Profile profile, LayerRules rules)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(rules);
        _profile = profile;
        Rules = rules;
        _roles = new Dictionary<int, string?>();
        foreach (var thread in profile.Threads) _roles.TryAdd(thread.Id, thread.Role); // a damaged store may repeat an id: the first wins
        _index = rules.Layers.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        IdleIndex = _index.GetValueOrDefault(LayerRules.Idle, -1);
    }

    public LayerRules Rules { get; }

    /// <summary>The index of the idle layer in <see cref="Names"/>, -1 when the rules have none.</summary>
    public int IdleIndex { get; }

    /// <summary>Layer names, indexed by what <see cref="IndexOf"/> returns.</summary>
    public IReadOnlyList<string> Names => Rules.Layers;

    /// <summary>The index in <see cref="Names"/> of the sample's layer.</summary>
    public int IndexOf(Sample sample)
    {
        var role = _roles.GetValueOrDefault(sample.ThreadId);
        var key = (sample.StackId, sample.State, role);
        if (_cache.TryGetValue(key, out var index)) return index;
        var frames = new List<FrameInfo>();
        for (var id = sample.StackId; id != 0 && _profile.Stacks.TryGetValue(id, out var node); id = node.Parent)
            if (_profile.Frames.TryGetValue(node.FrameId, out var frame)) frames.Add(frame);
        frames.Reverse();
        index = _index[Rules.Classify(frames, sample.State, role)];
        _cache[key] = index;
        return index;
    }

    public string NameOf(Sample sample) => Names[IndexOf(sample)];

    /// <summary>
    /// Whether reports leave the sample out unless asked for (<c>--idle</c>): an idle thread-pool sample, or one the
    /// rules put in the idle layer (a main thread blocked in host.Run(), Kestrel's heartbeat waiting for its tick).
    /// </summary>
    public bool IsIdle(Sample sample) => sample.State.IsIdle() || IndexOf(sample) == IdleIndex;
}

/// <summary>One layer's share of a set of samples.</summary>
public sealed record LayerShare(string Layer, long Samples, long CpuNs);

/// <summary>
/// The layer breakdown of the samples in a view: overall, per thread and over time (<see cref="Buckets"/> equal slices
/// of the capture). Layers with no samples in the view are left out; <see cref="Overall"/> is most samples first (ties
/// in rule order), the columns of <see cref="PerThread"/> and <see cref="OverTime"/> are in rule order.
/// </summary>
public sealed class LayerBreakdown
{
    /// <summary>Slices of the time line in <see cref="OverTime"/>; fewer when the capture has fewer snapshots.</summary>
    public const int MaxBuckets = 40;

    LayerBreakdown(IReadOnlyList<string> layers, IReadOnlyList<LayerShare> overall, IReadOnlyDictionary<int, long[]> perThread,
        IReadOnlyList<long[]> overTime, long bucketUs)
    {
        Layers = layers;
        Overall = overall;
        PerThread = perThread;
        OverTime = overTime;
        BucketUs = bucketUs;
    }

    /// <summary>The layers with samples, in rule order: the columns of <see cref="PerThread"/> and <see cref="OverTime"/>.</summary>
    public IReadOnlyList<string> Layers { get; }

    public IReadOnlyList<LayerShare> Overall { get; }

    /// <summary>Per thread id: samples in each of <see cref="Layers"/>.</summary>
    public IReadOnlyDictionary<int, long[]> PerThread { get; }

    /// <summary>Per time slice (each <see cref="BucketUs"/> long, from the first snapshot): samples in each of <see cref="Layers"/>.</summary>
    public IReadOnlyList<long[]> OverTime { get; }

    public long BucketUs { get; }

    public long[] Of(int threadId) => PerThread.GetValueOrDefault(threadId) ?? new long[Layers.Count];

    public static LayerBreakdown Of(Profile profile, IReadOnlyList<Sample> samples, ProfileLayers layers)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(layers);
        var all = layers.Names.Count;
        var counts = new long[all];
        var cpu = new long[all];
        var indices = new int[samples.Count];
        for (var i = 0; i < samples.Count; i++)
        {
            var layer = indices[i] = layers.IndexOf(samples[i]);
            counts[layer] += samples[i].Wall;
            cpu[layer] += samples[i].CpuNs;
        }
        // Only the layers present become columns: with samples, or with CPU only (see BetweenSamples).
        var present = Enumerable.Range(0, all).Where(l => counts[l] > 0 || cpu[l] > 0).ToList();
        var column = new int[all];
        for (var c = 0; c < present.Count; c++) column[present[c]] = c;

        var offsets = profile.Snapshots.GroupBy(s => s.Sequence).ToDictionary(g => g.Key, g => g.First().OffsetUs);
        var first = profile.Snapshots.Count == 0 ? 0 : profile.Snapshots.Min(s => s.OffsetUs);
        var last = profile.Snapshots.Count == 0 ? 0 : profile.Snapshots.Max(s => s.OffsetUs);
        var buckets = Math.Clamp(profile.Snapshots.Count, 1, MaxBuckets);
        var bucketUs = Math.Max(1, (last - first + buckets) / buckets);
        var overTime = Enumerable.Range(0, buckets).Select(_ => new long[present.Count]).ToList();
        var perThread = new Dictionary<int, long[]>();
        for (var i = 0; i < samples.Count; i++)
        {
            var c = column[indices[i]];
            if (!perThread.TryGetValue(samples[i].ThreadId, out var row)) perThread[samples[i].ThreadId] = row = new long[present.Count];
            row[c] += samples[i].Wall;
            if (offsets.TryGetValue(samples[i].Sequence, out var offset))
                overTime[(int)Math.Clamp((offset - first) / bucketUs, 0, buckets - 1)][c] += samples[i].Wall;
        }
        return new LayerBreakdown(present.Select(l => layers.Names[l]).ToList(),
            present.Select(l => new LayerShare(layers.Names[l], counts[l], cpu[l])).OrderByDescending(l => l.Samples).ToList(), perThread, overTime, bucketUs);
    }
}
