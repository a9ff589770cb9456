using System.CommandLine;
using System.Globalization;
using Snapper.Cli;
using Snapper.Store;

namespace Snapper.Commands;

/// <summary><c>snapper sessions</c>: list what the store holds.</summary>
public static class SessionsCommand
{
    static readonly Option<string> Db = CommonOptions.Database();
    static readonly Option<string?> Name = new("--name") { Description = "Only sessions of processes with this name (ignoring case).", HelpName = "name" };
    static readonly Option<TimeSpan?> Since = CommonOptions.Duration("--since", "Only sessions started within this long before now.");

    public static Command Create()
    {
        var command = new Command("sessions", """
            List the sessions stored in the database, oldest first (times in UTC).

            Examples:
              snapper sessions --db /var/lib/snapper/app.db
              snapper sessions --name Orders --since 24h
            """) { Db, Name, Since };
        command.SetAction(result => CommandRunner.Run(() => Execute(result.GetValue(Db)!, result.GetValue(Name), result.GetValue(Since))));
        return command;
    }

    static int Execute(string dbPath, string? name, TimeSpan? since)
    {
        using var db = AbandonedSessions.OpenExisting(dbPath);
        var all = SessionQueries.List(db);
        var sessions = all
            .Where(s => name is null || s.Target.ProcessName.Equals(name, StringComparison.OrdinalIgnoreCase))
            .Where(s => since is null || s.StartedUtc >= DateTime.UtcNow - since.Value)
            .ToList();
        if (sessions.Count == 0)
        {
            Console.WriteLine(all.Count == 0 ? $"No sessions in {db.Path}." : $"No sessions in {db.Path} match ({all.Count} in all).");
            return (int)ExitCode.Success;
        }
        var rows = new List<string[]> { new[] { "ID", "PID", "PROCESS", "STARTED (UTC)", "SAMPLES", "RATE/S", "PAUSE P50", "PAUSE P99", "OVERHEAD", "ENDED" } };
        foreach (var s in sessions)
            rows.Add([
                s.Id.ToString(CultureInfo.InvariantCulture),
                s.Target.Pid.ToString(CultureInfo.InvariantCulture),
                s.Target.ProcessName,
                s.StartedUtc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                s.SnapshotCount.ToString(CultureInfo.InvariantCulture),
                s.AchievedRate.ToString("F1", CultureInfo.InvariantCulture),
                SessionSummary.Ms(s.Pause.P50Us),
                SessionSummary.Ms(s.Pause.P99Us),
                Report.OverheadText.Cell(s.Overhead) + (s.Overhead?.MaxWeight > 1 ? string.Create(CultureInfo.InvariantCulture,
                    $", rate down to {s.Target.RequestedRate / s.Overhead.MaxWeight:0.#}/s") : ""),
                SessionSummary.EndText(s.EndReason),
            ]);
        // Focused captures (sample --focus) say what they kept; the column appears only when one is listed.
        if (sessions.Any(s => s.Focus is not null))
        {
            rows[0] = [.. rows[0], "FOCUS"];
            for (var i = 0; i < sessions.Count; i++)
                rows[i + 1] = [.. rows[i + 1], sessions[i].Focus is { } f
                    ? string.Create(CultureInfo.InvariantCulture, $"/{f.Pattern}/ kept {f.Kept} of {f.Seen}")
                    : ""];
        }
        // Snapper's own errors (its bugs, not failed snapshots): a count, and below the table what they were.
        var withErrors = sessions.Where(s => s.InternalErrors.Count > 0).ToList();
        if (withErrors.Count > 0)
        {
            rows[0] = [.. rows[0], "SNAPPER ERRORS"];
            for (var i = 0; i < sessions.Count; i++)
                rows[i + 1] = [.. rows[i + 1], sessions[i].InternalErrors.Count == 0 ? "" : sessions[i].InternalErrors.Sum(e => e.Count).ToString(CultureInfo.InvariantCulture)];
        }
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
            Console.WriteLine(string.Join("  ", row.Select((cell, c) => c is 0 or 1 or 4 or 5 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd());
        foreach (var session in withErrors)
            foreach (var error in session.InternalErrors)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Session {session.Id}: Snapper error x{error.Count}: {error.Reason} (a bug: please report it)"));
        return (int)ExitCode.Success;
    }
}
