using Snapper.Store;

namespace Snapper.Report.Export;

/// <summary>
/// A session prepared for the exporters: methods interned the way the reports group them (per method, not per source
/// line), each stack's method path, the sampled threads with their samples in time order, and the sample weights.
/// Built once per export; every exporter reads the same groupings, so their totals agree with the reports'.
/// </summary>
sealed class ExportProfile
{
    readonly Dictionary<int, int[]> _paths = new();
    readonly Dictionary<int[], int[]> _canonicalPaths = new(new PathComparer());
    readonly List<int> _scratch = new();

    public ExportProfile(Profile profile)
    {
        Methods = new MethodTable(profile);
        Weights = SampleWeight.For(profile);
        var byThread = new Dictionary<int, List<Sample>>();
        // The store hands samples out by snapshot, so each thread's list is in time order.
        foreach (var sample in profile.Samples)
        {
            if (!byThread.TryGetValue(sample.ThreadId, out var list)) byThread[sample.ThreadId] = list = new List<Sample>();
            list.Add(sample);
        }
        var table = SampledThreads.Table(profile, byThread.Keys);
        Threads = byThread.Keys.Order().Select(id => new ThreadSamples(table[id], byThread[id])).ToList();
    }

    public MethodTable Methods { get; }

    public IReadOnlyList<SampleWeight> Weights { get; }

    /// <summary>Every thread with at least one sample, by Snapper's thread id (the order they were first seen).</summary>
    public IReadOnlyList<ThreadSamples> Threads { get; }

    /// <summary>
    /// The methods of a stack, outermost first, as indexes into <see cref="Methods"/>; empty for stack 0. Stacks that
    /// differ only in source lines give the same array instance, so callers can group paths by reference.
    /// </summary>
    public int[] PathOf(int stackId)
    {
        if (_paths.TryGetValue(stackId, out var path)) return path;
        _scratch.Clear();
        for (var id = stackId; id != 0;) _scratch.Add(Methods.MethodOfStack(id, out id));
        _scratch.Reverse();
        path = _scratch.ToArray();
        if (_canonicalPaths.TryGetValue(path, out var known)) path = known;
        else _canonicalPaths[path] = path;
        _paths[stackId] = path;
        return path;
    }

    /// <summary>The sample's value for each of <see cref="Weights"/>.</summary>
    public long[] WeightsOf(Sample sample)
    {
        var values = new long[Weights.Count];
        for (var w = 0; w < values.Length; w++) values[w] = Weights[w].ValueOf(sample);
        return values;
    }

    public static string SessionTitle(Profile profile) =>
        $"{profile.Session.Target.ProcessName} (pid {ReportFormat.Integer(profile.Session.Target.Pid)}), session {ReportFormat.Integer(profile.Session.Id)}";
}

/// <summary>Method paths compared by content, to find the one instance of each.</summary>
sealed class PathComparer : IEqualityComparer<int[]>
{
    public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(int[] path)
    {
        var hash = new HashCode();
        hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(path.AsSpan()));
        return hash.ToHashCode();
    }
}

/// <summary>One thread and its samples, in time order.</summary>
sealed record ThreadSamples(ThreadInfo Thread, IReadOnlyList<Sample> Samples);
