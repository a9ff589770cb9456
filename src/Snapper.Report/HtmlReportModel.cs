using System.Globalization;
using Snapper.Store;

namespace Snapper.Report;

sealed record Fact(string Label, string Value, bool Code = false);

sealed record LegendEntry(string Css, string Label);

sealed record FunctionRow(string Rank, string Self, string SelfPct, string Bar, string Total, string TotalPct, string Name, string Module, string Css);

sealed record FunctionTable(string Title, IReadOnlyList<FunctionRow> Rows);

sealed record StateShare(string Css, string Pct, string Title);

sealed record ThreadRow(string Index, string Label, string Role, string Samples, IReadOnlyList<StateShare> States, string Cpu, string CpuNs,
    IReadOnlyList<LayerSegment> Layers);

/// <summary>One layer's part of a thread's stacked bar: its width in percent and a tooltip.</summary>
sealed record LayerSegment(string Css, string Width, string Title);

/// <summary>A row of the layers table: the page's script updates the counts to the current view.</summary>
sealed record LayerRow(string Index, string Name, string Description, string Css, string Samples, string Pct);

/// <summary>
/// What the Handlebars template sees: every value already a string, formatted with the invariant culture, so the
/// template does no formatting of its own and cannot pick up the current culture.
/// </summary>
sealed record HtmlReportModel(
    string Title,
    IReadOnlyList<Fact> Facts,
    IReadOnlyList<LegendEntry> Legend,
    IReadOnlyList<LegendEntry> States,
    IReadOnlyList<ThreadRow> Threads,
    IReadOnlyList<LockView> Locks,
    IReadOnlyList<LayerRow> Layers,
    FunctionTable StaticTable,
    bool IncludeIdle,
    string CpuRule,
    string DataJson,
    string Css,
    string Script,
    string ScriptHash)
{
    public static HtmlReportModel Build(Profile profile, ProfileAnalysis analysis, LockContention locks, ReportOptions options, int top,
        FocusCounts? focus = null)
    {
        var target = profile.Session.Target;
        var layers = analysis.SampleLayers;
        return new HtmlReportModel(
            ReportFormat.ProcessTitle(target),
            FactsOf(profile, options, focus),
            [new("own", "own code"), new("framework", "framework"), new("transition", "transition"), new("native", "native"), new("thread", "thread")],
            analysis.TableStates.Select(s => new LegendEntry(StateCss(s), s.Name())).ToList(),
            analysis.Threads.Select((t, i) => Row(t, i, analysis.TableStates, analysis.Layers, layers.Names)).ToList(),
            LockView.Of(locks),
            LayerRows(analysis, layers),
            Table(analysis, analysis.TopBySelf(top)),
            options.IncludeIdle,
            char.ToUpperInvariant(BetweenSamples.Rule[0]) + BetweenSamples.Rule[1..] + ".",
            HtmlProfileData.Build(profile, analysis.Threads, options.IncludeIdle, layers),
            HtmlTemplates.Report.Css + StateRules(),
            HtmlTemplates.Report.Script,
            HtmlTemplates.Report.ScriptHash);
    }

    internal static string StateCss(SampleState state) => "st-" + state.ShortName();

    /// <summary>The states' underline colours, from the one description of the states (SampleStates).</summary>
    internal static string StateRules() => string.Concat(SampleStates.All.Select(state => state == SampleState.Unknown
        ? $"th.{StateCss(state)}, td.{StateCss(state)} {{ box-shadow: none; }}\n"
        : $"th.{StateCss(state)}, td.{StateCss(state)} {{ box-shadow: inset 0 -3px 0 {state.Colour()}; }}\n"));

    /// <summary>Every layer the rules name (the page can show idle samples the analysis left out), counted in the default view.</summary>
    static List<LayerRow> LayerRows(ProfileAnalysis analysis, ProfileLayers layers) =>
        layers.Names.Select((name, i) =>
        {
            var samples = analysis.Layers.Overall.FirstOrDefault(l => l.Layer == name)?.Samples ?? 0;
            return new LayerRow(ReportFormat.Integer(i), name, layers.Rules.Descriptions.GetValueOrDefault(name) ?? "", LayerCss(i),
                ReportFormat.Count(samples), ReportFormat.Percent(analysis.Percent(samples)));
        }).ToList();

    /// <summary>Layers are coloured by their index in the rules; the palette repeats after twelve.</summary>
    internal static string LayerCss(int index) => "ly-" + (index % 12).ToString(CultureInfo.InvariantCulture);

    static ThreadRow Row(ThreadStats stats, int index, IReadOnlyList<SampleState> shown, LayerBreakdown breakdown, IReadOnlyList<string> allLayers)
    {
        var counts = breakdown.Of(stats.Thread.Id);
        var sum = counts.Sum();
        var segments = new List<LayerSegment>();
        for (var l = 0; l < counts.Length; l++)
        {
            if (counts[l] == 0) continue;
            var name = breakdown.Layers[l];
            var pct = counts[l] * 100.0 / sum;
            segments.Add(new LayerSegment(LayerCss(allLayers.ToList().IndexOf(name)), pct.ToString("0.##", CultureInfo.InvariantCulture),
                $"{name}: {ReportFormat.Count(counts[l])} samples ({ReportFormat.Percent(pct)})"));
        }
        var states = shown.Select(s =>
        {
            var pct = stats.Samples == 0 ? 0 : stats.SamplesIn(s) * 100.0 / stats.Samples;
            return new StateShare(StateCss(s), ReportFormat.Percent(pct), $"{s.Name()}: {ReportFormat.Count(stats.SamplesIn(s))} samples");
        }).ToList();
        var role = stats.Thread.Role is { Length: > 0 } r && r != stats.Thread.DisplayName ? r : "";
        return new ThreadRow(ReportFormat.Integer(index), stats.Thread.Label, role, ReportFormat.Count(stats.Samples), states,
            ReportFormat.CpuTime(stats.CpuNs), ReportFormat.Integer(stats.CpuNs), segments);
    }

    static List<Fact> FactsOf(Profile profile, ReportOptions options, FocusCounts? reportFocus)
    {
        var session = profile.Session;
        var target = session.Target;
        var facts = SessionFacts.Of(profile);
        var list = new List<Fact>
        {
            new("Command line", options.CommandLine(target), Code: true),
            new("Captured by", target.SnapperCommandLine, Code: true),
            new("Runtime", target.RuntimeVersion),
            new("Host", target.Host),
            new("Engine", target.Engine),
            new(profile.Sessions.Count == 1 ? "Session" : "Sessions", ReportFormat.SessionIds(profile).Split(' ', 2)[1]),
            new("Started", ReportFormat.Utc(session.StartedUtc)),
            new("Ended", session.EndedUtc is { } ended ? ReportFormat.Utc(ended) : "(not ended)"),
            new("Duration", ReportFormat.SessionDuration(profile)),
            new("End reason", ReportFormat.EndReason(session)),
            new("Snapshots", $"{ReportFormat.Count(facts.Snapshots)} ({ReportFormat.Count(session.LateCount)} late, {ReportFormat.Count(session.FailedCount)} failed)"),
            new("Thread samples", ReportFormat.Count(facts.Samples)),
            new("Rate", $"{ReportFormat.Rate(target.RequestedRate)} requested, {ReportFormat.Rate(facts.AchievedRate)} achieved"),
            new("Target pause", $"p50 {ReportFormat.Micros(facts.Pause.P50Us)}, p99 {ReportFormat.Micros(facts.Pause.P99Us)}, max {ReportFormat.Micros(facts.Pause.MaxUs)}"),
        };
        if (session.Overhead is { } overhead) list.Add(new("Overhead", OverheadText.Describe(overhead, target.RequestedRate)));
        if (session.InternalErrors.Count > 0) list.Add(new("Snapper errors", ReportFormat.InternalErrors(session.InternalErrors)));
        if (options.Threads is { } threads) list.Add(new("Threads", $"matching /{threads.Pattern}/"));
        if (session.Focus is { } focus) list.Add(new("Capture focus", FocusText(focus)));
        if (reportFocus is not null) list.Add(new("Report focus", FocusText(reportFocus)));
        if (options.Layers is { } layers) list.Add(new("Layers", string.Join(", ", layers.Order(StringComparer.Ordinal))));
        if (options.LayerRules.UserFile is { } file) list.Add(new("Layer rules", file + ", then the built-in rules", Code: true));
        return list;
    }

    static string FocusText(FocusCounts focus) =>
        $"/{focus.Pattern}/: kept {ReportFormat.Count(focus.Kept)} of {ReportFormat.Count(focus.Seen)} thread samples" +
        (focus.Seen == 0 ? "" : $" ({ReportFormat.Percent(focus.Kept * 100.0 / focus.Seen)})");

    /// <summary>Titled with the rows it has ("Top 12 functions"), not the limit asked for.</summary>
    static FunctionTable Table(ProfileAnalysis analysis, IReadOnlyList<FunctionStats> functions) =>
        new($"Top {ReportFormat.Integer(functions.Count)} functions by self samples", functions.Select((f, i) =>
        {
            var selfPct = analysis.Percent(f.Self);
            return new FunctionRow(ReportFormat.Integer(i + 1), ReportFormat.Count(f.Self), ReportFormat.Percent(selfPct),
                Math.Clamp(selfPct, 0, 100).ToString("0.##", CultureInfo.InvariantCulture),
                ReportFormat.Count(f.Total), ReportFormat.Percent(analysis.Percent(f.Total)),
                f.Method.DisplayName, f.Method.Module, JsonReportWriter.CategoryName(f.Method.Category));
        }).ToList());
}
