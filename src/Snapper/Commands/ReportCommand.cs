using System.CommandLine;
using Snapper.Cli;
using Snapper.Store;

namespace Snapper.Commands;

/// <summary><c>snapper report</c>: render a stored session as HTML, text or JSON.</summary>
public static class ReportCommand
{
    static readonly Option<string> Db = CommonOptions.Database();
    static readonly Option<string> Session = new("--session", "-s")
    {
        Description = "Session id, or 'latest'.",
        DefaultValueFactory = _ => "latest",
        HelpName = "id",
    };
    static readonly Option<ReportFormat> Format = CommonOptions.Choice("--format",
        "html: interactive single-file report. text: for terminals and CI logs. json: stable summary for scripts.", ReportFormat.Html, "-f");
    static readonly Option<string?> Output = new("--output", "-o")
    {
        Description = "Output file, '-' for stdout. Default: stdout for text and json; for html, a file beside the database.",
        HelpName = "path",
    };

    static readonly Option<ThreadSelection?> Threads = CommonOptions.Threads("Report only the threads whose names match.");
    static readonly Option<bool> Idle = CommonOptions.Idle();

    public static Command Create()
    {
        var command = new Command("report", """
            Render a stored session.

            Examples:
              snapper report                                 HTML of the latest session
              snapper report --session 3 --format text
              snapper report --format json -o profile.json
              snapper report --format text --threads 'Worker|Order'
              snapper report --idle                          include parked thread-pool threads
            """)
        { Db, Session, Format, Output, Threads, Idle };
        command.SetAction(result => CommandRunner.Run(() => Execute(result)));
        return command;
    }

    static int Execute(ParseResult result)
    {
        var format = result.GetValue(Format);
        var output = result.GetValue(Output);
        if (output is not null) ReportFiles.EnsureWritable(output);
        var dbPath = result.GetValue(Db)!;
        using var db = SnapperDatabase.Open(dbPath, create: false);
        AbandonedSessions.Close(db);
        var session = FindSession(db, result.GetValue(Session)!);
        output ??= format == ReportFormat.Html ? SampleCommand.DefaultReportPath(dbPath, session.Id) : "-";
        ReportFiles.Write(ProfileReader.Load(db, session), format, output, CommonOptions.ReportOptions(result, Threads, Idle));
        if (output != "-") Console.WriteLine($"Report: {Path.GetFullPath(output)}");
        return (int)ExitCode.Success;
    }

    public static SessionInfo FindSession(SnapperDatabase db, string text)
    {
        long? id = null;
        if (!text.Equals("latest", StringComparison.OrdinalIgnoreCase))
        {
            if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed) || parsed <= 0)
                throw new SnapperException(ExitCode.InvalidArguments, $"--session must be a session id or 'latest', not '{text}'");
            id = parsed;
        }
        return SessionQueries.Find(db, id)
            ?? throw new SnapperException(ExitCode.NotFound, id is null
                ? $"database '{db.Path}' has no sessions yet (run 'snapper sample' first)"
                : $"no session {id} in '{db.Path}' (see 'snapper sessions')");
    }
}
