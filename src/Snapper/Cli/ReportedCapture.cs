using System.Globalization;
using Snapper.Sampling;
using Snapper.Report;
using Snapper.Store;

namespace Snapper.Cli;

/// <summary>
/// A capture run from the terminal, as `sample` and `demo` both do it: Ctrl+C ends it cleanly, a progress line
/// shows on a terminal, and afterwards the summary, the database and (when asked for) the written report are printed.
/// </summary>
public static class ReportedCapture
{
    /// <param name="reportPathFor">Where to write the HTML report of the session with the given id; null for none.</param>
    public static (SessionInfo Session, CaptureResult Capture) Run(SnapperDatabase db, string dbPath, CaptureOptions options,
        Func<long, string>? reportPathFor, Report.ReportOptions reportOptions, bool quiet = false)
    {
        AbandonedSessions.Close(db);
        using var signals = new Signals();
        var progress = quiet ? null : ProgressLine.ForConsole();
        var capture = CaptureRunner.Run(db, options, signals.Token, progress is null ? null : progress.Update);
        progress?.Finish();

        var session = SessionQueries.Find(db, capture.SessionId)!;
        if (!quiet)
        {
            Console.WriteLine(SessionSummary.Describe(session));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Database: {Path.GetFullPath(dbPath)} (session {session.Id})"));
        }
        if (reportPathFor?.Invoke(session.Id) is { } reportPath)
        {
            ReportFiles.Write(ProfileReader.Load(db, session), ReportFileFormat.Html, reportPath, reportOptions);
            if (!quiet) Console.WriteLine($"Report:   {Path.GetFullPath(reportPath)}");
        }
        return (session, capture);
    }
}
