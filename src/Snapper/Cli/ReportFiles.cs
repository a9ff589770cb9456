using Snapper.Report;
using Snapper.Store;

namespace Snapper.Cli;

/// <summary>Renders reports to a file (atomically, see <see cref="OutputFile"/>) or to stdout for "-".</summary>
public static class ReportFiles
{
    /// <summary>Fails before a long capture, not after it, when the report could not be written.</summary>
    public static void EnsureWritable(string path) => OutputFile.EnsureWritable(path, "report");

    public static void Write(Profile profile, ReportFileFormat format, string path, ReportOptions options) =>
        OutputFile.Write(path, "report", stream => ProfileReports.Write(profile, format, stream, options));
}
