namespace Snapper.Report;

/// <summary>The format of a report or a diff: the HTML page, text for terminals and CI logs, or JSON for scripts.</summary>
public enum ReportFileFormat
{
    Html,
    Text,
    Json,
}

/// <summary>
/// The one place that knows which writer writes which report format, for a profile and for a diff of two (as
/// <see cref="Export.ProfileExporters"/> is for the exports). Where the bytes go (a file, stdout) is the caller's.
/// </summary>
public static class ProfileReports
{
    public static void Write(Store.Profile profile, ReportFileFormat format, Stream output, ReportOptions options) =>
        WithWriter(output, writer =>
        {
            switch (format)
            {
                case ReportFileFormat.Html: HtmlReportWriter.Write(profile, writer, options); break;
                case ReportFileFormat.Text: TextReportWriter.Write(profile, writer, options); break;
                case ReportFileFormat.Json: JsonReportWriter.Write(profile, writer, options); break;
                default: throw new ArgumentOutOfRangeException(nameof(format), format, "no writer for this format");
            }
        });

    /// <param name="baseSessions">The sessions of the base side, by id (the JSON lists them).</param>
    /// <param name="compareSessions">The sessions of the compared side, by id.</param>
    public static void WriteDiff(ProfileDiff diff, DiffSides sides, IReadOnlyList<long> baseSessions, IReadOnlyList<long> compareSessions,
        ReportFileFormat format, Stream output)
    {
        switch (format)
        {
            case ReportFileFormat.Json: DiffJsonWriter.Write(diff, baseSessions, compareSessions, output); break;
            case ReportFileFormat.Html: WithWriter(output, writer => DiffHtmlWriter.Write(diff, sides, writer)); break;
            case ReportFileFormat.Text: WithWriter(output, writer => DiffTextWriter.Write(diff, sides, writer)); break;
            default: throw new ArgumentOutOfRangeException(nameof(format), format, "no writer for this format");
        }
    }

    static void WithWriter(Stream output, Action<TextWriter> write)
    {
        using var writer = new StreamWriter(output, new System.Text.UTF8Encoding(false), leaveOpen: true);
        write(writer);
    }
}
