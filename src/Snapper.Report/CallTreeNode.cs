using Snapper.Store;

namespace Snapper.Report;

/// <summary>What a call tree node stands for.</summary>
public enum CallTreeNodeKind
{
    /// <summary>The single root: every sample of the session.</summary>
    Root,
    /// <summary>One thread: every sample of it, its frames below.</summary>
    Thread,
    /// <summary>One method on one call path.</summary>
    Frame,
}

/// <summary>
/// One node of the merged call tree: root, then one node per thread, then methods outermost first.
/// <see cref="Total"/> counts the samples whose stack passes through this node, <see cref="Self"/> those that end here.
/// Children are sorted by total, largest first, then by name, so every report lists them in the same order.
/// Counts are always exact; only children under the analysis' threshold are left out (see <see cref="PrunedChildren"/>).
/// </summary>
public sealed class CallTreeNode
{
    readonly List<CallTreeNode> _children = new();

    internal CallTreeNode(CallTreeNodeKind kind, string name, CallTreeNode? parent, MethodIdentity? method = null, ThreadInfo? thread = null)
    {
        Kind = kind;
        Name = name;
        Parent = parent;
        Method = method;
        Thread = thread;
        Depth = parent is null ? 0 : parent.Depth + 1;
        parent?._children.Add(this);
    }

    public CallTreeNodeKind Kind { get; }

    /// <summary>"all threads" for the root, the thread's label, or the method's display name.</summary>
    public string Name { get; }

    public CallTreeNode? Parent { get; }

    /// <summary>The method of a <see cref="CallTreeNodeKind.Frame"/> node; null for the root and threads.</summary>
    public MethodIdentity? Method { get; }

    /// <summary>The thread of a <see cref="CallTreeNodeKind.Thread"/> node; null otherwise.</summary>
    public ThreadInfo? Thread { get; }

    /// <summary>0 for the root, 1 for threads, 2 for outermost frames.</summary>
    public int Depth { get; }

    public long Total { get; internal set; }
    public long Self { get; internal set; }

    /// <summary>CPU nanoseconds of the samples counted in <see cref="Total"/> and <see cref="Self"/>.</summary>
    public long TotalCpuNs { get; internal set; }
    public long SelfCpuNs { get; internal set; }

    /// <summary>The children kept: those at or above the analysis' threshold (all of them when it is 0).</summary>
    public IReadOnlyList<CallTreeNode> Children => _children;

    /// <summary>How many children the analysis left out for being under its threshold.</summary>
    public int PrunedChildren { get; internal set; }

    /// <summary>Samples in the left-out children: what <see cref="Total"/> has beyond <see cref="Self"/> and the kept children.</summary>
    public long PrunedTotal => Total - Self - _children.Sum(c => c.Total);

    /// <summary>Sorts every level once the counts are final; recursion-free because real stacks can be thousands deep.</summary>
    internal void SortRecursively()
    {
        var pending = new Stack<CallTreeNode>();
        pending.Push(this);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            node._children.Sort(ByTotalThenName);
            foreach (var child in node._children) pending.Push(child);
        }
    }

    static int ByTotalThenName(CallTreeNode a, CallTreeNode b)
    {
        var byTotal = b.Total.CompareTo(a.Total);
        if (byTotal != 0) return byTotal;
        var byName = string.CompareOrdinal(a.Name, b.Name);
        if (byName != 0) return byName;
        var byModule = string.CompareOrdinal(a.Method?.Module, b.Method?.Module);
        if (byModule != 0) return byModule;
        var byKind = (a.Method?.Kind ?? 0).CompareTo(b.Method?.Kind ?? 0);
        return byKind != 0 ? byKind : (a.Thread?.Id ?? 0).CompareTo(b.Thread?.Id ?? 0);
    }
}
