namespace Snapper.Report.Export;

/// <summary>The formats <c>snapper export</c> writes; docs/exports.md describes how a session maps onto each.</summary>
public enum ExportFormat
{
    /// <summary>speedscope's own JSON file format: one sampled profile for all threads and one per thread.</summary>
    Speedscope,
    /// <summary>Brendan Gregg's folded stacks, one <c>frame;frame;frame count</c> line per distinct stack.</summary>
    Folded,
    /// <summary>pprof's gzip-compressed profile.proto.</summary>
    Pprof,
    /// <summary>The Chrome trace event format: a timeline with one track per thread.</summary>
    Chromium,
}
