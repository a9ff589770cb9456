using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// Builds the merged call tree top-down by partitioning the distinct (thread, stack) pairs: at each node the pairs
/// passing through it are sorted by their method at the next depth, and each run becomes a child. A run under the
/// threshold is dropped with its whole subtree before any of it is built, so the cost follows the size of the tree
/// kept, not of the full tree (which for a large profile can run to millions of nodes).
/// </summary>
static class CallTreeBuilder
{
    /// <param name="keep">Whether a node with these samples and CPU nanoseconds is worth building.</param>
    public static CallTreeNode Build(DistinctStacks stacks, Dictionary<int, ThreadInfo> threads, MethodTable methods, Func<long, long, bool> keep)
    {
        var root = new CallTreeNode(CallTreeNodeKind.Root, ProfileAnalysis.RootName, null);
        var items = new int[stacks.PairCount];
        var keys = new int[stacks.PairCount];
        for (var p = 0; p < items.Length; p++) items[p] = p;
        var work = new Stack<(CallTreeNode Node, int Depth, int From, int To)>();

        // Pairs come ordered by thread: each run of one thread becomes that thread's node.
        for (var from = 0; from < items.Length;)
        {
            var threadId = stacks.ThreadOf(from);
            var to = from;
            long total = 0, cpu = 0;
            for (; to < items.Length && stacks.ThreadOf(to) == threadId; to++)
            {
                total += stacks.CountOf(to);
                cpu += stacks.CpuOf(to);
            }
            root.Total += total;
            root.TotalCpuNs += cpu;
            if (keep(total, cpu))
            {
                var thread = threads[threadId];
                work.Push((new CallTreeNode(CallTreeNodeKind.Thread, thread.Label, root, thread: thread) { Total = total, TotalCpuNs = cpu }, 0, from, to));
            }
            else root.PrunedChildren++;
            from = to;
        }

        while (work.Count > 0)
        {
            var (node, depth, from, to) = work.Pop();
            for (var i = from; i < to; i++) keys[i] = stacks.MethodAt(items[i], depth);
            // Stacks that end here sort first (key -1) and are this node's self samples; the rest group by method.
            Array.Sort(keys, items, from, to - from);
            var next = from;
            for (; next < to && keys[next] < 0; next++)
            {
                node.Self += stacks.CountOf(items[next]);
                node.SelfCpuNs += stacks.CpuOf(items[next]);
            }
            while (next < to)
            {
                var method = keys[next];
                var end = next;
                long total = 0, cpu = 0;
                for (; end < to && keys[end] == method; end++)
                {
                    total += stacks.CountOf(items[end]);
                    cpu += stacks.CpuOf(items[end]);
                }
                if (keep(total, cpu))
                {
                    var identity = methods[method];
                    var child = new CallTreeNode(CallTreeNodeKind.Frame, identity.DisplayName, node, identity) { Total = total, TotalCpuNs = cpu };
                    work.Push((child, depth + 1, next, end));
                }
                else node.PrunedChildren++;
                next = end;
            }
        }
        root.SortRecursively();
        return root;
    }
}
