using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// One self-contained HTML file: session header, a threads table with states and CPU time, a flame graph, top
/// functions and an expandable call tree, all following one view (selected threads, all samples or on-CPU only, idle
/// samples or not, wall clock or CPU time) that the page's script aggregates from the embedded data; and, when threads
/// were seen waiting to enter a lock, a lock contention section, static: it counts
/// the samples the report was written with and does not follow the page's view. Everything
/// (style, script, data) is inline and the page's Content-Security-Policy forbids any fetch, so it can be mailed or
/// attached to a ticket and opened anywhere. Without JavaScript, the header, threads, lock contention and top
/// functions still show.
/// </summary>
public static class HtmlReportWriter
{
    /// <summary>Default number of rows in each top-functions table.</summary>
    public const int DefaultTop = 50;

    public static void Write(Profile profile, TextWriter output, ReportOptions? options = null, int top = DefaultTop)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(output);
        options ??= ReportOptions.Default;
        var whole = profile;
        profile = ProfileFilter.Select(profile, options, out var focus);
        // The tree is built by the page; only the thread table, the locks and the no-script table come from here.
        var analysis = ProfileAnalysis.Analyze(profile, treeMinPercent: 100, options.IncludeIdle, options.LayerRules);
        var locks = LockContention.InReport(whole, profile, analysis, options.IncludeIdle);
        HtmlTemplates.Report.Render(output, HtmlReportModel.Build(profile, analysis, locks, options, top, focus));
    }
}
