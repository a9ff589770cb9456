namespace Snapper.Report;

/// <summary>One line of the HTML call tree, flattened so the template needs no recursion (stacks can be very deep).</summary>
sealed record TreeItem(string Name, string? Module, string Css, string TotalPct, string SelfPct, string Total, string Self,
    bool Expandable, bool Open)
{
    /// <summary>The &lt;details&gt; elements to close after this line, innermost first, each with its note on what was left out.</summary>
    public List<TreeCloser> Closers { get; } = new();
}

sealed record TreeCloser(string? Hidden);

/// <summary>
/// Flattens the call tree for nested &lt;details&gt;: a node with shown or hidden children opens an element that a later
/// line's closers end. Small nodes and very deep ones are pruned, and each pruned group is named in its parent.
/// </summary>
static class HtmlCallTree
{
    public const double DefaultMinPercent = 0.1;
    public const int MaxDepth = 100;

    /// <summary>More rows than this make the page sluggish; the threshold is raised until the tree fits.</summary>
    const int MaxItems = 5_000;

    /// <summary>Auto-open the hot path: threads, and frames above this share, down to <see cref="OpenMaxDepth"/>.</summary>
    const double OpenMinPercent = 10;
    const int OpenMaxDepth = 40;

    public static (List<TreeItem> Items, double MinPercent) Build(ProfileAnalysis analysis, double minPercent = DefaultMinPercent)
    {
        while (true)
        {
            var items = Flatten(analysis, minPercent);
            if (items is not null) return (items, minPercent);
            minPercent *= 2;
        }
    }

    static List<TreeItem>? Flatten(ProfileAnalysis analysis, double minPercent)
    {
        var items = new List<TreeItem>();
        var pending = new Stack<(CallTreeNode Node, bool Close)>();
        pending.Push((analysis.CallTree, false));
        while (pending.Count > 0)
        {
            var (node, close) = pending.Pop();
            var shown = node.Children.Where(c => node.Depth < MaxDepth && analysis.Percent(c.Total) >= minPercent).ToList();
            if (close)
            {
                items[^1].Closers.Add(new TreeCloser(HiddenNote(analysis, node, shown, minPercent)));
                continue;
            }
            if (items.Count >= MaxItems) return null;
            var expandable = node.Children.Count > 0 || node.PrunedChildren > 0; // even if all are pruned: the note says so
            var percent = analysis.Percent(node.Total);
            items.Add(new TreeItem(node.Name, node.Method?.Module is { Length: > 0 } m ? m : null, CssClass(node),
                ReportFormat.Percent(percent), ReportFormat.Percent(analysis.Percent(node.Self)),
                ReportFormat.Count(node.Total), ReportFormat.Count(node.Self), expandable,
                expandable && (node.Depth < 2 || (percent >= OpenMinPercent && node.Depth < OpenMaxDepth))));
            if (!expandable) continue;
            pending.Push((node, true));
            for (var i = shown.Count - 1; i >= 0; i--) pending.Push((shown[i], false));
        }
        return items;
    }

    static string? HiddenNote(ProfileAnalysis analysis, CallTreeNode node, List<CallTreeNode> shown, double minPercent)
    {
        // Left out here, or already by the analysis.
        var hidden = node.Children.Count - shown.Count + node.PrunedChildren;
        if (hidden == 0) return null;
        var samples = node.Total - node.Self - shown.Sum(c => c.Total);
        var share = ReportFormat.Percent(analysis.Percent(samples));
        var callees = hidden == 1 ? "callee" : "callees";
        return node.Depth >= MaxDepth
            ? $"{ReportFormat.Count(hidden)} {callees} deeper than {ReportFormat.Integer(MaxDepth)} levels not shown ({share} of samples)"
            : $"{ReportFormat.Count(hidden)} more {callees} under {ReportFormat.Threshold(minPercent)} each ({share} of samples together)";
    }

    internal static string CssClass(CallTreeNode node) => node.Kind switch
    {
        CallTreeNodeKind.Root => "root",
        CallTreeNodeKind.Thread => "thread",
        _ => JsonReportWriter.CategoryName(node.Method!.Value.Category),
    };
}
