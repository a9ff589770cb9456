using System.CommandLine;
using Snapper.Cli;
using Snapper.Report;
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
    static readonly Option<ReportFileFormat> Format = CommonOptions.Choice("--format",
        "html: interactive single-file report. text: for terminals and CI logs. json: stable summary for scripts.", ReportFileFormat.Html, "-f");
    static readonly Option<string?> Output = new("--output", "-o")
    {
        Description = "Output file, '-' for stdout. Default: stdout for text and json; for html, a file beside the database.",
        HelpName = "path",
    };

    static readonly Option<ThreadSelection?> Threads = CommonOptions.Threads("Report only the threads whose names match.");
    static readonly Option<bool> Idle = CommonOptions.Idle();
    static readonly Option<bool> ShowSecrets = CommonOptions.ShowSecrets();
    static readonly Option<TimeSpan?> Since = CommonOptions.Duration("--since", "Aggregate every session started within this long before now into one report.");
    static readonly Option<string?> Sessions = new("--sessions")
    {
        Description = "Aggregate these sessions into one report: ids separated by commas (e.g. 3,4,7).",
        HelpName = "ids",
    };
    static readonly Option<string?> Name = new("--name") { Description = "With --since: only sessions of processes with this name.", HelpName = "name" };
    static readonly Option<FocusPattern?> Focus = CommonOptions.Focus(
        "Report only the samples whose stack has a frame matching this; the report says how many samples it saw and kept.");
    static readonly Option<string?> LayersFile = CommonOptions.LayersFile();
    static readonly Option<string?> Layer = CommonOptions.LayerFilter(
        "Report (threads, flame graph, call tree, functions; the HTML page can also filter by layer itself)");

    public static Command Create()
    {
        var command = new Command("report", """
            Render a stored session, or several as one (--since, --sessions): HTML, text or JSON.

            Examples:
              snapper report                                 HTML of the latest session
              snapper report --session 3 --format text
              snapper report --format json -o profile.json
              snapper report --format text --threads 'Worker|Order'
              snapper report --idle                          include parked thread-pool threads
              snapper report --since 24h --name Orders       every capture of Orders in the last day, as one
              snapper report --sessions 3,4,7 --format text
              snapper report --format text --focus 'OrdersController.Checkout'   only samples inside Checkout
              snapper report --format text --layer sql       only samples in the SQL layer
              snapper report --layers my-layers.json         add your own layer rules

            Every report carries the layer breakdown: overall, per thread and over time.

            """ + CommonOptions.LayersHelp)
        { Db, Session, Since, Sessions, Name, Format, Output, Threads, Idle, Focus, Layer, LayersFile, ShowSecrets };
        command.SetAction(result => CommandRunner.Run(() => Execute(result)));
        return command;
    }

    static int Execute(ParseResult result)
    {
        var format = result.GetValue(Format);
        var rules = CommonOptions.LoadLayerRules(result.GetValue(LayersFile));
        var layers = CommonOptions.ParseLayerFilter(result.GetValue(Layer), rules);
        var output = result.GetValue(Output);
        if (output is not null) ReportFiles.EnsureWritable(output);
        var dbPath = result.GetValue(Db)!;
        using var db = AbandonedSessions.OpenExisting(dbPath);
        var sessions = ChooseSessions(db, result);
        var session = sessions[^1];
        output ??= format != ReportFileFormat.Html ? "-"
            : sessions.Count == 1 ? SampleCommand.DefaultReportPath(dbPath, session.Id)
            : OutputFile.BesideDatabase(dbPath, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"sessions-{sessions[0].Id}-{session.Id}"), ".html");
        var options = CommonOptions.ReportOptions(result, Threads, Idle, ShowSecrets) with
        {
            LayerRules = rules,
            Layers = layers,
            Focus = result.GetValue(Focus),
        };
        ReportFiles.Write(ProfileReader.LoadMany(db, sessions), format, output, options);
        if (output != "-") Console.WriteLine($"Report: {Path.GetFullPath(output)}");
        return (int)ExitCode.Success;
    }

    /// <summary>The session or sessions the options name, oldest first: --session, --sessions, or --since (with --name).</summary>
    static List<SessionInfo> ChooseSessions(SnapperDatabase db, ParseResult result)
    {
        var since = result.GetValue(Since);
        var ids = result.GetValue(Sessions);
        var name = result.GetValue(Name);
        var single = result.GetResult(Session) is { Implicit: false };
        if ((since is not null ? 1 : 0) + (ids is not null ? 1 : 0) + (single ? 1 : 0) > 1)
            throw new SnapperException(ExitCode.InvalidArguments, "give one of --session, --sessions and --since");
        if (name is not null && since is null)
            throw new SnapperException(ExitCode.InvalidArguments, "--name goes with --since (a session id already names one capture)");
        if (ids is not null) return FindSessions(db, ids, "--sessions");
        if (since is { } window)
        {
            if (window <= TimeSpan.Zero) throw new SnapperException(ExitCode.InvalidArguments, "--since must be longer than zero");
            var from = DateTime.UtcNow - window;
            var found = SessionQueries.List(db)
                .Where(s => s.StartedUtc >= from && (name is null || s.Target.ProcessName.Equals(name, StringComparison.OrdinalIgnoreCase)))
                .ToList();
            if (found.Count > 0) return found;
            var of = name is null ? "" : $" of '{name}'";
            throw new SnapperException(ExitCode.NotFound, $"no sessions{of} started in the last {FormatWindow(window)} in '{db.Path}' (see 'snapper sessions')");
        }
        return [FindSession(db, result.GetValue(Session)!)];
    }

    static string FormatWindow(TimeSpan window)
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        return window.TotalDays >= 1 ? window.TotalDays.ToString("0.#", c) + " days"
            : window.TotalHours >= 1 ? window.TotalHours.ToString("0.#", c) + " hours"
            : window.TotalMinutes.ToString("0.#", c) + " minutes";
    }

    /// <summary>The sessions a list of ids names ("3,4,7"), oldest first; each must exist.</summary>
    public static List<SessionInfo> FindSessions(SnapperDatabase db, string ids, string option)
    {
        var parsed = ids.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        if (parsed.Count == 0 || parsed.Any(p => !long.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) || id <= 0))
            throw new SnapperException(ExitCode.InvalidArguments, $"{option} must be session ids separated by commas, not '{ids}'");
        return parsed.Distinct().Select(id => FindSession(db, id)).OrderBy(s => s.StartedUtc).ThenBy(s => s.Id).ToList();
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
