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

    ProfileAnalysis(long totalSamples, double treeMinPercent, IReadOnlyList<ThreadStats> threads, CallTreeNode callTree,
        IReadOnlyList<FunctionStats> functions)
    {
        TotalSamples = totalSamples;
        TreeMinPercent = treeMinPercent;
        Threads = threads;
        CallTree = callTree;
        Functions = functions;
    }

    /// <summary>Thread samples in the profile: one per thread per snapshot, empty stacks included. Percentages are of this.</summary>
    public long TotalSamples { get; }

    /// <summary>Call tree nodes under this percentage of <see cref="TotalSamples"/> were left out (0: none were).</summary>
    public double TreeMinPercent { get; }

    /// <summary>Every thread of the profile, most samples first; threads never sampled have 0.</summary>
    public IReadOnlyList<ThreadStats> Threads { get; }

    /// <summary>Root, then one node per sampled thread, then methods outermost first.</summary>
    public CallTreeNode CallTree { get; }

    /// <summary>Every method seen (never pruned), most self samples first, then most total samples, then by name.</summary>
    public IReadOnlyList<FunctionStats> Functions { get; }

    public double Percent(long count) => TotalSamples == 0 ? 0 : count * 100.0 / TotalSamples;

    public IReadOnlyList<FunctionStats> TopBySelf(int count) => Functions.Take(Math.Max(0, count)).ToList();

    public IReadOnlyList<FunctionStats> TopByTotal(int count) =>
        Functions.OrderByDescending(f => f.Total).ThenByDescending(f => f.Self)
            .ThenBy(f => f.Method.DisplayName, StringComparer.Ordinal).ThenBy(f => f.Method.Module, StringComparer.Ordinal)
            .ThenBy(f => f.Method.Kind)
            .Take(Math.Max(0, count)).ToList();

    /// <summary>
    /// Analyses a profile. <paramref name="treeMinPercent"/> prunes call tree nodes under that share of all samples
    /// while the tree is built: a full per-thread tree of a large profile can have millions of nodes that no report
    /// shows. 0 keeps every node. Counts stay exact either way; functions and threads are never pruned.
    /// </summary>
    public static ProfileAnalysis Analyze(Profile profile, double treeMinPercent = 0)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfNegative(treeMinPercent);
        var total = profile.Samples.Count;
        var methods = new MethodTable(profile);
        var stacks = DistinctStacks.Count(profile, methods);
        var threads = SampledThreads.Table(profile, stacks.PerThread.Keys);
        bool Keep(long samples) => samples > 0 && (total == 0 ? 0 : samples * 100.0 / total) >= treeMinPercent;
        var tree = CallTreeBuilder.Build(stacks, threads, methods, Keep);
        var threadStats = threads.Values
            .Select(t => new ThreadStats(t, stacks.PerThread.GetValueOrDefault(t.Id)))
            .OrderByDescending(t => t.Samples).ThenBy(t => t.Thread.Id).ToList();
        return new ProfileAnalysis(total, treeMinPercent, threadStats, tree, CountFunctions(stacks, methods));
    }

    /// <summary>Per distinct stack: self for the leaf method, total once for each method on it (a stamp marks "already counted").</summary>
    static List<FunctionStats> CountFunctions(DistinctStacks stacks, MethodTable methods)
    {
        var self = new long[methods.Count];
        var total = new long[methods.Count];
        var stamp = new int[methods.Count];
        var perStack = new Dictionary<int, long>();
        for (var p = 0; p < stacks.PairCount; p++)
            CollectionsMarshal.GetValueRefOrAddDefault(perStack, stacks.PathOf(p), out _) += stacks.CountOf(p);
        var current = 0;
        foreach (var (path, count) in perStack)
        {
            var frames = stacks.Path(path);
            if (frames.Length == 0) continue;
            current++;
            self[frames[^1]] += count;
            foreach (var method in frames)
            {
                if (stamp[method] == current) continue;
                stamp[method] = current;
                total[method] += count;
            }
        }
        var functions = new List<FunctionStats>();
        for (var m = 0; m < methods.Count; m++)
            if (total[m] > 0) functions.Add(new FunctionStats(methods[m], self[m], total[m]));
        return functions
            .OrderByDescending(f => f.Self).ThenByDescending(f => f.Total)
            .ThenBy(f => f.Method.DisplayName, StringComparer.Ordinal).ThenBy(f => f.Method.Module, StringComparer.Ordinal)
            .ThenBy(f => f.Method.Kind).ToList();
    }
}
