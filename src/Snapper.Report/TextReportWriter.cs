using System.Text;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// A plain-text summary for terminals and CI logs: a short header, the threads with their states and CPU time, the
/// locks threads waited on (when any did), the top functions by self samples and by CPU time, and the hot part of the
/// call tree. Deterministic and culture-invariant, so it can be diffed and golden-tested.
/// </summary>
public static class TextReportWriter
{
    /// <summary>Call tree nodes under this share of all samples are left out: a log wants the hot path, not every leaf.</summary>
    public const double TreeMinPercent = 1.0;

    /// <summary>Deeper nodes are left out; indentation beyond this stops being readable.</summary>
    public const int TreeMaxDepth = 30;

    /// <summary>Rows of the layers-over-time table.</summary>
    const int TimeRows = 10;

    public static void Write(Profile profile, TextWriter output, ReportOptions? options = null, int top = 20)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(output);
        options ??= ReportOptions.Default;
        var whole = profile;
        profile = ProfileFilter.Select(profile, options, out var focus);
        var analysis = ProfileAnalysis.Analyze(profile, TreeMinPercent, options.IncludeIdle, options.LayerRules);
        var text = new StringBuilder();
        WriteHeader(text, profile, options);
        WriteView(text, analysis, options, focus);
        WriteLayers(text, analysis);
        WriteThreads(text, analysis);
        WriteThreadLayers(text, analysis);
        LockContentionText.Write(text, LockContention.InReport(whole, profile, analysis, options.IncludeIdle));
        WriteTopFunctions(text, analysis, top);
        WriteTopCpuFunctions(text, analysis, top);
        WriteCallTree(text, analysis);
        output.Write(text.ToString());
    }

    static void WriteHeader(StringBuilder text, Profile profile, ReportOptions options)
    {
        var session = profile.Session;
        var target = session.Target;
        var facts = SessionFacts.Of(profile);
        var span = session.EndedUtc is { } e
            ? $"{ReportFormat.Utc(session.StartedUtc)} to {ReportFormat.Utc(e)} ({ReportFormat.SessionDuration(profile)})"
            : $"{ReportFormat.Utc(session.StartedUtc)}, not ended ({ReportFormat.SessionDuration(profile)})";
        Line(text, $"Snapper profile of {TerminalText.Clean(ReportFormat.ProcessTitle(target))}, {ReportFormat.SessionIds(profile)}");
        Line(text, $"  command line : {TerminalText.Clean(options.CommandLine(target))}");
        Line(text, $"  captured by  : {TerminalText.Clean(target.SnapperCommandLine)}");
        Line(text, $"  runtime      : {TerminalText.Clean(target.RuntimeVersion)} on {TerminalText.Clean(target.Host)}, engine {TerminalText.Clean(target.Engine)}");
        Line(text, $"  captured     : {span}");
        Line(text, $"  ended        : {TerminalText.Clean(ReportFormat.EndReason(session))}");
        Line(text, $"  snapshots    : {ReportFormat.Count(facts.Snapshots)} ({ReportFormat.Count(session.LateCount)} late, " +
                   $"{ReportFormat.Count(session.FailedCount)} failed), {ReportFormat.Count(facts.Samples)} thread samples");
        Line(text, $"  rate         : {ReportFormat.Rate(target.RequestedRate)} requested, {ReportFormat.Rate(facts.AchievedRate)} achieved");
        Line(text, $"  target pause : p50 {ReportFormat.Micros(facts.Pause.P50Us)}, p99 {ReportFormat.Micros(facts.Pause.P99Us)}, " +
                   $"max {ReportFormat.Micros(facts.Pause.MaxUs)}");
        if (session.Overhead is { } overhead) Line(text, $"  overhead     : {OverheadText.Describe(overhead, target.RequestedRate)}");
        if (session.InternalErrors.Count > 0) Line(text, $"  errors       : {TerminalText.Clean(ReportFormat.InternalErrors(session.InternalErrors))}");
        if (session.Focus is { } focus) Line(text, $"  focus        : {Focus(focus)} (sample --focus)");
    }

    /// <summary>"/Checkout/: kept 1,204 of 9,877 thread samples (12.2%)".</summary>
    static string Focus(FocusCounts focus) =>
        $"/{TerminalText.Clean(focus.Pattern)}/: kept {ReportFormat.Count(focus.Kept)} of {ReportFormat.Count(focus.Seen)} thread samples" +
        (focus.Seen == 0 ? "" : $" ({ReportFormat.Percent(focus.Kept * 100.0 / focus.Seen)})");

    static void WriteLayers(StringBuilder text, ProfileAnalysis analysis)
    {
        var layers = analysis.Layers;
        Line(text, "");
        Line(text, "Layers (each sample in the innermost layer its stack is in; see 'snapper report --help')");
        if (layers.Overall.Count == 0)
        {
            Line(text, "  (no samples)");
            return;
        }
        var width = Math.Max(7, layers.Overall.Max(l => ReportFormat.Count(l.Samples).Length));
        Line(text, $"  {"samples".PadLeft(width)}  share   cpu time  layer");
        foreach (var layer in layers.Overall)
            Line(text, $"  {ReportFormat.Count(layer.Samples).PadLeft(width)}  {ReportFormat.Percent(analysis.Percent(layer.Samples)),6}  " +
                       $"{ReportFormat.CpuTime(layer.CpuNs),8}  {TerminalText.Clean(layer.Layer)}");
        // Over time: at most ten rows for a terminal, each a run of the analysis' slices merged.
        var per = (layers.OverTime.Count + TimeRows - 1) / TimeRows;
        var slices = Enumerable.Range(0, (layers.OverTime.Count + per - 1) / per)
            .Select(r => Enumerable.Range(r * per, Math.Min(per, layers.OverTime.Count - r * per))
                .Aggregate(new long[layers.Layers.Count], (sum, b) => { for (var l = 0; l < sum.Length; l++) sum[l] += layers.OverTime[b][l]; return sum; }))
            .ToList();
        Line(text, "");
        Line(text, $"Layers over time (share of each {ReportFormat.Micros(layers.BucketUs * per)} slice's samples)");
        var header = "  from      ";
        foreach (var name in layers.Layers) header += $"  {Truncate(TerminalText.Clean(name), 13),13}";
        Line(text, header);
        for (var b = 0; b < slices.Count; b++)
        {
            var counts = slices[b];
            var sum = counts.Sum();
            var row = $"  {ReportFormat.Micros(b * per * layers.BucketUs),-10}";
            foreach (var count in counts) row += $"  {(sum == 0 ? "-" : ReportFormat.Percent(count * 100.0 / sum)),13}";
            Line(text, row);
        }
    }

    static void WriteThreadLayers(StringBuilder text, ProfileAnalysis analysis)
    {
        var layers = analysis.Layers;
        var threads = analysis.Threads.Where(t => layers.Of(t.Thread.Id).Sum() > 0).ToList();
        if (threads.Count == 0 || layers.Layers.Count == 0) return;
        Line(text, "");
        Line(text, "Layers per thread (share of each thread's samples in the view)");
        var header = "  samples";
        foreach (var name in layers.Layers) header += $"  {Truncate(TerminalText.Clean(name), 13),13}";
        Line(text, header + "  thread");
        foreach (var thread in threads)
        {
            var counts = layers.Of(thread.Thread.Id);
            var sum = counts.Sum();
            var row = $"  {ReportFormat.Count(sum),7}";
            foreach (var count in counts) row += $"  {(count == 0 ? "-" : ReportFormat.Percent(count * 100.0 / sum)),13}";
            Line(text, row + $"  {TerminalText.Clean(thread.Thread.Label)}");
        }
    }

    static string Truncate(string value, int width) => value.Length <= width ? value : value[..(width - 1)] + "~";

    static void WriteView(StringBuilder text, ProfileAnalysis analysis, ReportOptions options, FocusCounts? focus)
    {
        if (focus is not null) Line(text, $"  report focus : {Focus(focus)} (report --focus)");
        if (options.LayerRules.UserFile is { } rules) Line(text, $"  layer rules  : {TerminalText.Clean(rules)}, then the built-in rules");
        var shown = $"  shown        : {ReportFormat.Count(analysis.TotalSamples)} samples, {ReportFormat.CpuTime(analysis.TotalCpuNs)} CPU";
        if (options.Threads is { } threads) shown += $", threads matching /{TerminalText.Clean(threads.Pattern)}/";
        if (options.Layers is { } layers) shown += $", layers {TerminalText.Clean(string.Join(", ", layers.Order(StringComparer.Ordinal)))}";
        if (analysis.HiddenIdleSamples > 0) shown += $"; {ReportFormat.Count(analysis.HiddenIdleSamples)} idle samples hidden (--idle shows them)";
        Line(text, shown);
    }

    static void WriteThreads(StringBuilder text, ProfileAnalysis analysis)
    {
        Line(text, "");
        Line(text, "Threads (share of each thread's samples by state; CPU time used over the capture)");
        if (analysis.Threads.Count == 0)
        {
            Line(text, "  (no threads sampled)");
            return;
        }
        var states = analysis.TableStates;
        var samplesWidth = Math.Max(7, analysis.Threads.Max(t => ReportFormat.Count(t.Samples).Length));
        var header = $"  {"samples".PadLeft(samplesWidth)}";
        foreach (var state in states) header += $"  {StateHeading(state),6}";
        Line(text, header + "  cpu time  thread");
        foreach (var thread in analysis.Threads)
        {
            var row = $"  {ReportFormat.Count(thread.Samples).PadLeft(samplesWidth)}";
            foreach (var state in states)
                row += $"  {(thread.Samples == 0 ? 0 : thread.SamplesIn(state) * 100.0 / thread.Samples).ToString("0", System.Globalization.CultureInfo.InvariantCulture) + "%",6}";
            Line(text, row + $"  {ReportFormat.CpuTime(thread.CpuNs),8}  {TerminalText.Clean(thread.Thread.Label)}{RoleNote(thread.Thread)}");
        }
    }

    static string StateHeading(SampleState state) => state.ShortName();

    /// <summary>The runtime role, when the label does not already say it.</summary>
    static string RoleNote(ThreadInfo thread) =>
        thread.Role is { Length: > 0 } role && thread.DisplayName != role ? $" [{TerminalText.Clean(role)}]" : "";

    static void WriteTopCpuFunctions(StringBuilder text, ProfileAnalysis analysis, int top)
    {
        var functions = analysis.TopBySelfCpu(top);
        Line(text, "");
        Line(text, $"Top {ReportFormat.Integer(functions.Count)} functions by self CPU time (of {ReportFormat.CpuTime(analysis.TotalCpuNs)})");
        if (functions.Count == 0)
        {
            Line(text, "  (no CPU time recorded)");
            return;
        }
        foreach (var line in Wrap($"CPU rule: {BetweenSamples.Rule}.", 100)) Line(text, "  " + line);
        Line(text, "  self cpu   self%  total cpu  total%  function");
        foreach (var f in functions)
        {
            Line(text, $"  {ReportFormat.CpuTime(f.SelfCpuNs),8}  {ReportFormat.Percent(analysis.CpuPercent(f.SelfCpuNs)),6}  " +
                       $"{ReportFormat.CpuTime(f.TotalCpuNs),9}  {ReportFormat.Percent(analysis.CpuPercent(f.TotalCpuNs)),6}  {Describe(f.Method)}");
        }
    }

    static void WriteTopFunctions(StringBuilder text, ProfileAnalysis analysis, int top)
    {
        var functions = analysis.TopBySelf(top);
        Line(text, "");
        Line(text, $"Top {ReportFormat.Integer(functions.Count)} functions by self samples (of {ReportFormat.Count(analysis.TotalSamples)})");
        if (functions.Count == 0)
        {
            Line(text, "  (no frames sampled)");
            return;
        }
        var width = Math.Max(5, ReportFormat.Count(functions.Max(f => f.Total)).Length);
        Line(text, $"  {"self".PadLeft(width)}   self%  {"total".PadLeft(width)}  total%  function");
        foreach (var f in functions)
        {
            Line(text, $"  {ReportFormat.Count(f.Self).PadLeft(width)}  {ReportFormat.Percent(analysis.Percent(f.Self)),6}  " +
                       $"{ReportFormat.Count(f.Total).PadLeft(width)}  {ReportFormat.Percent(analysis.Percent(f.Total)),6}  {Describe(f.Method)}");
            // Where in the method, when its PDB says: its hottest lines, at most three.
            foreach (var line in analysis.LinesOf(f.Method).Take(3))
                Line(text, $"  {ReportFormat.Count(line.Self).PadLeft(width)}  {ReportFormat.Percent(analysis.Percent(line.Self)),6}  " +
                           $"{ReportFormat.Count(line.Total).PadLeft(width)}  {ReportFormat.Percent(analysis.Percent(line.Total)),6}    at {TerminalText.Clean(line.Label)}");
        }
    }

    static void WriteCallTree(StringBuilder text, ProfileAnalysis analysis)
    {
        Line(text, "");
        Line(text, $"Call tree (nodes with at least {ReportFormat.Threshold(TreeMinPercent)} of samples, up to depth {ReportFormat.Integer(TreeMaxDepth)})");
        Line(text, "  total%   self%  frame");
        // Explicit stack rather than recursion: stacks can be deeper than the tree we print, and this stays flat.
        var pending = new Stack<CallTreeNode>();
        pending.Push(analysis.CallTree);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            var name = node.Method is { } method ? Describe(method) : TerminalText.Clean(node.Name);
            Line(text, $"  {ReportFormat.Percent(analysis.Percent(node.Total)),6}  {ReportFormat.Percent(analysis.Percent(node.Self)),6}  " +
                       $"{new string(' ', 2 * node.Depth)}{name}");
            if (node.Depth >= TreeMaxDepth) continue;
            // Wall-clock view: by share of samples (the CPU-heavy paths are listed in their own table above).
            for (var i = node.Children.Count - 1; i >= 0; i--)
                if (analysis.Percent(node.Children[i].Total) >= TreeMinPercent) pending.Push(node.Children[i]);
        }
    }

    /// <summary>"Type.Method [Module]": the module tells framework from own code and names native libraries.</summary>
    static string Describe(MethodIdentity method) =>
        method.Module.Length == 0 ? TerminalText.Clean(method.DisplayName) : $"{TerminalText.Clean(method.DisplayName)} [{TerminalText.Clean(method.Module)}]";

    // '\n' explicitly, not Environment.NewLine: the same bytes on every OS, so golden files compare.
    static void Line(StringBuilder text, string line) => text.Append(line).Append('\n');

    /// <summary>Words into lines of at most <paramref name="width"/> characters (a longer word gets a line of its own).</summary>
    static IEnumerable<string> Wrap(string words, int width)
    {
        var line = new StringBuilder();
        foreach (var word in words.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) yield return line.ToString();
    }
}
