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

    ProfileAnalysis(long totalSamples, IReadOnlyList<ThreadStats> threads, CallTreeNode callTree, IReadOnlyList<FunctionStats> functions)
    {
        TotalSamples = totalSamples;
        Threads = threads;
        CallTree = callTree;
        Functions = functions;
    }

    /// <summary>Thread samples in the profile: one per thread per snapshot, empty stacks included. Percentages are of this.</summary>
    public long TotalSamples { get; }

    /// <summary>Every thread of the profile, most samples first; threads never sampled have 0.</summary>
    public IReadOnlyList<ThreadStats> Threads { get; }

    /// <summary>Root, then one node per sampled thread, then methods outermost first.</summary>
    public CallTreeNode CallTree { get; }

    /// <summary>Every method seen, most self samples first, then most total samples, then by name.</summary>
    public IReadOnlyList<FunctionStats> Functions { get; }

    public double Percent(long count) => TotalSamples == 0 ? 0 : count * 100.0 / TotalSamples;

    public IReadOnlyList<FunctionStats> TopBySelf(int count) => Functions.Take(Math.Max(0, count)).ToList();

    public IReadOnlyList<FunctionStats> TopByTotal(int count) =>
        Functions.OrderByDescending(f => f.Total).ThenByDescending(f => f.Self)
            .ThenBy(f => f.Method.DisplayName, StringComparer.Ordinal).ThenBy(f => f.Method.Module, StringComparer.Ordinal)
            .ThenBy(f => f.Method.Kind)
            .Take(Math.Max(0, count)).ToList();

    public static ProfileAnalysis Analyze(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return new Builder(profile).Build();
    }

    /// <summary>
    /// The work is proportional to the distinct (thread, stack) pairs, not to the samples: samples are counted per pair
    /// first, then each distinct stack is walked once. A session of a million samples usually has a few thousand stacks.
    /// </summary>
    sealed class Builder(Profile profile)
    {
        readonly MethodTable _methods = new(profile);
        readonly List<CallTreeNode> _nodes = new();
        readonly Dictionary<(CallTreeNode Parent, int Method), CallTreeNode> _children = new();
        readonly Dictionary<(int ThreadIndex, int StackId), CallTreeNode> _resolved = new();
        readonly List<int> _chain = new();

        public ProfileAnalysis Build()
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var pairs = CountPerThreadAndStack();
            Console.Error.WriteLine($"count {sw.ElapsedMilliseconds}");
            var threads = ThreadTable();
            var root = Add(new CallTreeNode(CallTreeNodeKind.Root, RootName, null));
            var threadNodes = new Dictionary<int, (int Index, CallTreeNode Node)>();
            var perThread = new Dictionary<int, long>();
            var perStack = new Dictionary<int, long>();

            // Sorted so nodes are created in the same order on every run, whatever the dictionary's order.
            foreach (var ((threadId, stackId), count) in pairs.OrderBy(p => p.Key))
            {
                if (!threadNodes.TryGetValue(threadId, out var thread))
                {
                    var info = threads.TryGetValue(threadId, out var known) ? known : Unknown(threadId, threads);
                    thread = (threadNodes.Count, Add(new CallTreeNode(CallTreeNodeKind.Thread, info.Label, root, thread: info)));
                    threadNodes[threadId] = thread;
                }
                Resolve(thread.Index, thread.Node, stackId).Self += count;
                CollectionsMarshal.GetValueRefOrAddDefault(perThread, threadId, out _) += count;
                CollectionsMarshal.GetValueRefOrAddDefault(perStack, stackId, out _) += count;
            }

            Console.Error.WriteLine($"resolve {sw.ElapsedMilliseconds} nodes {_nodes.Count}");
            // A child is always created after its parent, so walking backwards adds every subtree before its parent is read.
            foreach (var node in _nodes) node.Total = node.Self;
            for (var i = _nodes.Count - 1; i > 0; i--) _nodes[i].Parent!.Total += _nodes[i].Total;
            Console.Error.WriteLine($"totals {sw.ElapsedMilliseconds}");
            root.SortRecursively();
            Console.Error.WriteLine($"sort {sw.ElapsedMilliseconds}");

            var threadStats = threads.Values
                .Select(t => new ThreadStats(t, perThread.GetValueOrDefault(t.Id)))
                .OrderByDescending(t => t.Samples).ThenBy(t => t.Thread.Id).ToList();
            return new ProfileAnalysis(profile.Samples.Count, threadStats, root, CountFunctions(perStack));
        }

        Dictionary<(int ThreadId, int StackId), long> CountPerThreadAndStack()
        {
            var pairs = new Dictionary<(int, int), long>();
            foreach (var sample in profile.Samples)
                CollectionsMarshal.GetValueRefOrAddDefault(pairs, (sample.ThreadId, sample.StackId), out _)++;
            return pairs;
        }

        Dictionary<int, ThreadInfo> ThreadTable()
        {
            var threads = new Dictionary<int, ThreadInfo>();
            foreach (var thread in profile.Threads) threads[thread.Id] = thread;
            return threads;
        }

        /// <summary>A sample naming a thread the profile does not list still counts; the store should never do this.</summary>
        static ThreadInfo Unknown(int threadId, Dictionary<int, ThreadInfo> threads) =>
            threads[threadId] = new ThreadInfo(threadId, 0, 0, $"unknown thread #{threadId}");

        CallTreeNode Add(CallTreeNode node)
        {
            _nodes.Add(node);
            return node;
        }

        /// <summary>The node of a stack under a thread: climbs to the nearest already-resolved prefix, then descends creating nodes.</summary>
        CallTreeNode Resolve(int threadIndex, CallTreeNode threadNode, int stackId)
        {
            _chain.Clear();
            var id = stackId;
            CallTreeNode? current = null;
            while (id != 0 && !_resolved.TryGetValue((threadIndex, id), out current))
            {
                _chain.Add(id);
                id = _methods.ParentOf(id);
            }
            current ??= threadNode;
            for (var i = _chain.Count - 1; i >= 0; i--)
            {
                var method = _methods.MethodOfStack(_chain[i]);
                if (!_children.TryGetValue((current, method), out var child))
                {
                    var identity = _methods[method];
                    child = Add(new CallTreeNode(CallTreeNodeKind.Frame, identity.DisplayName, current, identity));
                    _children[(current, method)] = child;
                }
                _resolved[(threadIndex, _chain[i])] = current = child;
            }
            return current;
        }

        /// <summary>Per distinct stack: self for the leaf method, total once for each method on it (a stamp marks "already counted").</summary>
        List<FunctionStats> CountFunctions(Dictionary<int, long> perStack)
        {
            var self = new long[_methods.Count];
            var total = new long[_methods.Count];
            var stamp = new int[_methods.Count];
            var current = 0;
            foreach (var (stackId, count) in perStack)
            {
                if (stackId == 0) continue;
                current++;
                self[_methods.MethodOfStack(stackId)] += count;
                for (var id = stackId; id != 0; id = _methods.ParentOf(id))
                {
                    var method = _methods.MethodOfStack(id);
                    if (stamp[method] == current) continue;
                    stamp[method] = current;
                    total[method] += count;
                }
            }
            var functions = new List<FunctionStats>();
            for (var m = 0; m < _methods.Count; m++)
                if (total[m] > 0) functions.Add(new FunctionStats(_methods[m], self[m], total[m]));
            return functions
                .OrderByDescending(f => f.Self).ThenByDescending(f => f.Total)
                .ThenBy(f => f.Method.DisplayName, StringComparer.Ordinal).ThenBy(f => f.Method.Module, StringComparer.Ordinal)
                .ThenBy(f => f.Method.Kind).ToList();
        }
    }
}
