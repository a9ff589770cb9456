using Snapper.Store;

namespace Snapper.Report;

sealed record Fact(string Label, string Value, bool Code = false);

sealed record LegendEntry(string Css, string Label);

sealed record FunctionRow(string Rank, string Self, string SelfPct, string Bar, string Total, string TotalPct, string Name, string Module, string Css);

sealed record FunctionTable(string Id, string Title, IReadOnlyList<FunctionRow> Rows);

sealed record ThreadRow(string Label, string Samples, string Pct);

/// <summary>
/// What the Handlebars template sees: every value already a string, formatted with the invariant culture, so the
/// template does no formatting of its own and cannot pick up the current culture.
/// </summary>
sealed record HtmlReportModel(
    string Title,
    IReadOnlyList<Fact> Facts,
    IReadOnlyList<LegendEntry> Legend,
    IReadOnlyList<FunctionTable> Tables,
    IReadOnlyList<ThreadRow> Threads,
    IReadOnlyList<TreeItem> Tree,
    string TreeNote,
    bool FlamePruned,
    string FlameMinPercent,
    string FlameJson,
    string Css,
    string Script,
    string ScriptHash)
{
    public static HtmlReportModel Build(Profile profile, ProfileAnalysis analysis, int top)
    {
        var target = profile.Session.Target;
        var (tree, treeMin) = HtmlCallTree.Build(analysis);
        var (flameJson, flameMin) = FlameGraphData.Build(analysis);
        return new HtmlReportModel(
            $"{target.ProcessName} (pid {ReportFormat.Integer(target.Pid)})",
            FactsOf(profile),
            [new("own", "own code"), new("framework", "framework"), new("transition", "transition"), new("native", "native"), new("thread", "thread")],
            [
                Table("top-self", "by self samples", analysis, analysis.TopBySelf(top)),
                Table("top-total", "by total samples", analysis, analysis.TopByTotal(top)),
            ],
            analysis.Threads.Select(t => new ThreadRow(t.Thread.Label, ReportFormat.Count(t.Samples), ReportFormat.Percent(analysis.Percent(t.Samples)))).ToList(),
            tree,
            $"Callees under {ReportFormat.Threshold(treeMin)} of samples and deeper than {ReportFormat.Integer(HtmlCallTree.MaxDepth)} levels are folded into a note.",
            // Only worth saying when something was actually left out of the drawing.
            flameMin > 0 && HasNodeUnder(analysis.CallTree, analysis, flameMin),
            ReportFormat.Threshold(flameMin),
            flameJson,
            HtmlTemplates.Css,
            HtmlTemplates.Script,
            HtmlTemplates.ScriptHash);
    }

    static List<Fact> FactsOf(Profile profile)
    {
        var session = profile.Session;
        var target = session.Target;
        var facts = SessionFacts.Of(profile);
        return
        [
            new("Command line", target.CommandLine, Code: true),
            new("Runtime", target.RuntimeVersion),
            new("Host", target.Host),
            new("Engine", target.Engine),
            new("Session", ReportFormat.Integer(session.Id)),
            new("Started", ReportFormat.Utc(session.StartedUtc)),
            new("Ended", session.EndedUtc is { } ended ? ReportFormat.Utc(ended) : "(not ended)"),
            new("Duration", ReportFormat.SessionDuration(profile)),
            new("End reason", ReportFormat.EndReason(session)),
            new("Snapshots", $"{ReportFormat.Count(facts.Snapshots)} ({ReportFormat.Count(session.LateCount)} late, {ReportFormat.Count(session.FailedCount)} failed)"),
            new("Thread samples", ReportFormat.Count(facts.Samples)),
            new("Rate", $"{ReportFormat.Rate(target.RequestedRate)} requested, {ReportFormat.Rate(facts.AchievedRate)} achieved"),
            new("Target pause", $"p50 {ReportFormat.Micros(facts.Pause.P50Us)}, p99 {ReportFormat.Micros(facts.Pause.P99Us)}, max {ReportFormat.Micros(facts.Pause.MaxUs)}"),
        ];
    }

    /// <summary>Titled with the rows it has ("Top 12 functions"), not the limit asked for.</summary>
    static FunctionTable Table(string id, string ranking, ProfileAnalysis analysis, IReadOnlyList<FunctionStats> functions) =>
        new(id, $"Top {ReportFormat.Integer(functions.Count)} functions {ranking}", functions.Select((f, i) =>
        {
            var selfPct = analysis.Percent(f.Self);
            return new FunctionRow(ReportFormat.Integer(i + 1), ReportFormat.Count(f.Self), ReportFormat.Percent(selfPct),
                Math.Clamp(selfPct, 0, 100).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture),
                ReportFormat.Count(f.Total), ReportFormat.Percent(analysis.Percent(f.Total)),
                f.Method.DisplayName, f.Method.Module, JsonReportWriter.CategoryName(f.Method.Category));
        }).ToList());

    static bool HasNodeUnder(CallTreeNode root, ProfileAnalysis analysis, double minPercent)
    {
        var pending = new Stack<CallTreeNode>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            if (node.PrunedChildren > 0) return true;
            foreach (var child in node.Children)
            {
                if (analysis.Percent(child.Total) < minPercent) return true;
                pending.Push(child);
            }
        }
        return false;
    }
}
