using Snapper.Report;
using Snapper.Store;

namespace Snapper.Cli;

public enum ReportFormat
{
    Html,
    Text,
    Json,
}

/// <summary>Renders reports to a file (atomically, see <see cref="OutputFile"/>) or to stdout for "-".</summary>
public static class ReportFiles
{
    /// <summary>Fails before a long capture, not after it, when the report could not be written.</summary>
    public static void EnsureWritable(string path) => OutputFile.EnsureWritable(path, "report");

    public static void Write(Profile profile, ReportFormat format, string path, ReportOptions options) =>
        OutputFile.Write(path, "report", stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true);
            Render(profile, format, writer, options);
        });

    static void Render(Profile profile, ReportFormat format, TextWriter output, ReportOptions options)
    {
        switch (format)
        {
            case ReportFormat.Html: HtmlReportWriter.Write(profile, output, options); break;
            case ReportFormat.Text: TextReportWriter.Write(profile, output, options); break;
            case ReportFormat.Json: JsonReportWriter.Write(profile, output, options); break;
        }
    }
}
