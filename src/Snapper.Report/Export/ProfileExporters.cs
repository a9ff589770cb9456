namespace Snapper.Report.Export;

/// <summary>The one place that knows which class writes which format.</summary>
public static class ProfileExporters
{
    public static IProfileExporter Create(ExportFormat format, ExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return format switch
        {
            ExportFormat.Speedscope => new SpeedscopeExporter(options.ExporterName),
            ExportFormat.Folded => new FoldedExporter(options.PerThread),
            ExportFormat.Pprof => new PprofExporter(options.ExporterName),
            ExportFormat.Chromium => new ChromiumTraceExporter(options.ExporterName),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "no exporter for this format"),
        };
    }
}
