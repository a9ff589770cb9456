using System.Reflection;

namespace Snapper.Report.Export;

/// <summary>What an export can be asked for beyond its format.</summary>
/// <param name="PerThread">Folded stacks only: put the thread's label in front of every stack as its root frame.</param>
/// <param name="Exporter">The producer named inside the files that have a place for it (speedscope, pprof, Chromium).</param>
public sealed record ExportOptions(bool PerThread = false, string? Exporter = null)
{
    /// <summary>"snapper@0.1.0": this build's version, as speedscope's <c>exporter</c> field expects a tool to name itself.</summary>
    public static string DefaultExporter { get; } = "snapper@" + (typeof(ExportOptions).Assembly.GetName().Version ?? new Version(0, 0, 0)).ToString(3);

    public string ExporterName => Exporter ?? DefaultExporter;
}
