using System.Runtime.InteropServices;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// Everything the reports show, computed once from a <see cref="Profile"/>: samples per thread, the merged call tree,
/// and per-method self/total counts. Pure and culture-free: numbers only, formatting is the writers' business.
/// </summary>
public sealed class ProfileAnalysis
{
    /// <summary>The name of the call tree root.</summary>
    public const string RootName = "all threads";

    ProfileAnalysis(long totalSamples, long totalCpuNs, long hiddenIdleSamples, double treeMinPercent, IReadOnlyList<ThreadStats> threads,
        CallTreeNode callTree, IReadOnlyList<FunctionStats> functions, IReadOnlyDictionary<MethodIdentity, IReadOnlyList<LineStats>> lines,
        LayerBreakdown layers, ProfileLayers sampleLayers)
    {
        Layers = layers;
        SampleLayers = sampleLayers;
        Lines = lines;
        TotalSamples = totalSamples;
        TotalCpuNs = totalCpuNs;
        HiddenIdleSamples = hiddenIdleSamples;
        TreeMinPercent = treeMinPercent;
        Threads = threads;
        CallTree = callTree;
        Functions = functions;
    }

    /// <summary>Thread samples in the view: one per thread per snapshot, empty stacks included, idle ones only if asked for. Percentages are of this.</summary>
    public long TotalSamples { get; }

    /// <summary>CPU nanoseconds the samples in the view carry. CPU percentages are of this.</summary>
    public long TotalCpuNs { get; }

    /// <summary>Idle samples left out of the tree and functions (0 when they were asked for): idle thread-pool samples and those in the idle layer.</summary>
    public long HiddenIdleSamples { get; }

    /// <summary>Call tree nodes under this percentage of <see cref="TotalSamples"/> were left out (0: none were).</summary>
    public double TreeMinPercent { get; }

    /// <summary>The samples in the view by layer: overall, per thread and over time.</summary>
    public LayerBreakdown Layers { get; }

    /// <summary>The layer of each sample of the profile, as the analysis decided it (the HTML data reuses it).</summary>
    internal ProfileLayers SampleLayers { get; }

    /// <summary>Every thread of the profile, most samples first; threads never sampled have 0. Counts every sample, idle ones too.</summary>
    public IReadOnlyList<ThreadStats> Threads { get; }

    /// <summary>Root, then one node per sampled thread, then methods outermost first.</summary>
    public CallTreeNode CallTree { get; }

    /// <summary>Every method seen (never pruned), most self samples first, then most total samples, then by name.</summary>
    public IReadOnlyList<FunctionStats> Functions { get; }

    /// <summary>The sampled source lines of each method that has a PDB, hottest first (see <see cref="MethodLines"/>).</summary>
    public IReadOnlyDictionary<MethodIdentity, IReadOnlyList<LineStats>> Lines { get; }

    public IReadOnlyList<LineStats> LinesOf(MethodIdentity method) => Lines.GetValueOrDefault(method) ?? [];

    /// <summary>
    /// The states a thread table should have columns for: all of them, but "unknown" only when a sample has it (it
    /// comes from stores written before states were recorded).
    /// </summary>
    public IReadOnlyList<SampleState> TableStates =>
        SampleStates.All.Where(s => s != SampleState.Unknown || Threads.Any(t => t.SamplesIn(s) > 0)).ToList();

    public double Percent(long count) => TotalSamples == 0 ? 0 : count * 100.0 / TotalSamples;

    public double CpuPercent(long cpuNs) => TotalCpuNs == 0 ? 0 : cpuNs * 100.0 / TotalCpuNs;

    /// <summary>By self samples; functions with CPU time only (see <see cref="BetweenSamples"/>) are not in the sample rankings.</summary>
    public IReadOnlyList<FunctionStats> TopBySelf(int count) => Functions.Where(f => f.Total > 0).Take(Math.Max(0, count)).ToList();

    public IReadOnlyList<FunctionStats> TopByTotal(int count) =>
        Functions.Where(f => f.Total > 0).OrderByDescending(f => f.Total).ThenByDescending(f => f.Self)
            .ThenBy(f => f.Method.DisplayName, StringComparer.Ordinal).ThenBy(f => f.Method.Module, StringComparer.Ordinal)
            .ThenBy(f => f.Method.Kind)
            .Take(Math.Max(0, count)).ToList();

    /// <summary>The functions that used the most CPU in their own frames; those that used none are left out.</summary>
    public IReadOnlyList<FunctionStats> TopBySelfCpu(int count) =>
        Functions.Where(f => f.SelfCpuNs > 0).OrderByDescending(f => f.SelfCpuNs).ThenByDescending(f => f.TotalCpuNs)
            .ThenBy(f => f.Method.DisplayName, StringComparer.Ordinal).ThenBy(f => f.Method.Module, StringComparer.Ordinal)
            .ThenBy(f => f.Method.Kind)
            .Take(Math.Max(0, count)).ToList();

    /// <summary>
    /// Analyses a profile. <paramref name="treeMinPercent"/> prunes call tree nodes under that share of all samples
    /// (and of all CPU time) while the tree is built: a full per-thread tree of a large profile can have millions of
    /// nodes that no report shows. 0 keeps every node. Counts stay exact either way; functions and threads are never
    /// pruned. Samples of idle thread-pool threads are left out of the tree and the functions unless
    /// <paramref name="includeIdle"/>; the thread statistics always count them. <paramref name="layerRules"/> (the
    /// built-in rules when null) attributes the samples in the view to layers (<see cref="Layers"/>).
    /// </summary>
    public static ProfileAnalysis Analyze(Profile profile, double treeMinPercent = 0, bool includeIdle = false, LayerRules? layerRules = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfNegative(treeMinPercent);
        var layers = new ProfileLayers(profile, layerRules ?? LayerRules.Default);
        var shown = includeIdle ? profile.Samples : profile.Samples.Where(s => !layers.IsIdle(s)).ToList();
        var total = shown.Sum(s => (long)s.Wall);
        var totalCpu = shown.Sum(s => s.CpuNs);
        var methods = new MethodTable(profile);
        var stacks = DistinctStacks.Count(shown, methods);
        var threads = SampledThreads.Table(profile, profile.Samples.Select(s => s.ThreadId));
        bool Keep(long samples, long cpu) => (samples > 0 || cpu > 0)
            && ((total == 0 ? 0 : samples * 100.0 / total) >= treeMinPercent || (totalCpu == 0 ? 0 : cpu * 100.0 / totalCpu) >= treeMinPercent);
        var tree = CallTreeBuilder.Build(stacks, threads, methods, Keep);
        return new ProfileAnalysis(total, totalCpu, profile.Samples.Sum(s => (long)s.Wall) - total, treeMinPercent, ThreadStatistics(profile, threads),
            tree, CountFunctions(stacks, methods), MethodLines.Of(profile, shown),
            LayerBreakdown.Of(profile, shown, layers), layers);
    }

    static List<ThreadStats> ThreadStatistics(Profile profile, Dictionary<int, ThreadInfo> threads)
    {
        var states = SampleStates.All.Max(s => (int)s) + 1;
        var byThread = threads.Keys.ToDictionary(id => id, _ => (Samples: 0L, Cpu: 0L, States: new long[states]));
        foreach (var sample in profile.Samples)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(byThread, sample.ThreadId);
            entry.Samples += sample.Wall;
            entry.Cpu += sample.CpuNs;
            entry.States[(int)sample.State is var s && s >= 0 && s < states ? s : 0] += sample.Wall;
        }
        return byThread
            .Select(pair => new ThreadStats(threads[pair.Key], pair.Value.Samples, pair.Value.Cpu, pair.Value.States))
            .OrderByDescending(t => t.Samples).ThenBy(t => t.Thread.Id).ToList();
    }

    /// <summary>Per distinct stack: self for the leaf method, total once for each method on it (a stamp marks "already counted").</summary>
    static List<FunctionStats> CountFunctions(DistinctStacks stacks, MethodTable methods)
    {
        var self = new long[methods.Count];
        var total = new long[methods.Count];
        var selfCpu = new long[methods.Count];
        var totalCpu = new long[methods.Count];
        var stamp = new int[methods.Count];
        var perStack = new Dictionary<int, (long Count, long Cpu)>();
        for (var p = 0; p < stacks.PairCount; p++)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(perStack, stacks.PathOf(p), out _);
            entry.Count += stacks.CountOf(p);
            entry.Cpu += stacks.CpuOf(p);
        }
        var current = 0;
        foreach (var (path, (count, cpu)) in perStack)
        {
            var frames = stacks.Path(path);
            if (frames.Length == 0) continue;
            current++;
            self[frames[^1]] += count;
            selfCpu[frames[^1]] += cpu;
            foreach (var method in frames)
            {
                if (stamp[method] == current) continue;
                stamp[method] = current;
                total[method] += count;
                totalCpu[method] += cpu;
            }
        }
        var functions = new List<FunctionStats>();
        for (var m = 0; m < methods.Count; m++)
            if (total[m] > 0 || totalCpu[m] > 0) functions.Add(new FunctionStats(methods[m], self[m], total[m], selfCpu[m], totalCpu[m]));
        return functions
            .OrderByDescending(f => f.Self).ThenByDescending(f => f.Total)
            .ThenBy(f => f.Method.DisplayName, StringComparer.Ordinal).ThenBy(f => f.Method.Module, StringComparer.Ordinal)
            .ThenBy(f => f.Method.Kind).ToList();
    }
}
