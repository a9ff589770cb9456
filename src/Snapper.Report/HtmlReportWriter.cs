using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// One self-contained HTML file: session header, top functions, threads, an expandable call tree and a flame graph.
/// Everything (style, script, data) is inline and the page's Content-Security-Policy forbids any fetch, so it can be
/// mailed or attached to a ticket and opened anywhere. The tables and the tree are server-rendered and work without
/// JavaScript; only the flame graph needs it.
/// </summary>
public static class HtmlReportWriter
{
    /// <summary>Default number of rows in each top-functions table.</summary>
    public const int DefaultTop = 50;

    public static void Write(Profile profile, TextWriter output, int top = DefaultTop)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(output);
        // Pruned at the flame graph's threshold, the finest any part of the page draws.
        var analysis = ProfileAnalysis.Analyze(profile, FlameGraphData.DefaultMinPercent);
        HtmlTemplates.Render(output, HtmlReportModel.Build(profile, analysis, top));
    }
}
