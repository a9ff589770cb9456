using System.CommandLine;
using System.Globalization;
using Snapper.Cli;
using Snapper.Store;

namespace Snapper.Commands;

/// <summary><c>snapper sessions</c>: list what the store holds.</summary>
public static class SessionsCommand
{
    static readonly Option<string> Db = CommonOptions.Database();

    public static Command Create()
    {
        var command = new Command("sessions", "List the sessions stored in the database, oldest first (times in UTC).") { Db };
        command.SetAction(result => CommandRunner.Run(() => Execute(result.GetValue(Db)!)));
        return command;
    }

    static int Execute(string dbPath)
    {
        using var db = SnapperDatabase.Open(dbPath, create: false);
        AbandonedSessions.Close(db);
        var sessions = SessionQueries.List(db);
        if (sessions.Count == 0)
        {
            Console.WriteLine($"No sessions in {db.Path}.");
            return (int)ExitCode.Success;
        }
        var rows = new List<string[]> { new[] { "ID", "PID", "PROCESS", "STARTED (UTC)", "SAMPLES", "RATE/S", "PAUSE P50", "PAUSE P99", "ENDED" } };
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
                SessionSummary.EndText(s.EndReason),
            ]);
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
            Console.WriteLine(string.Join("  ", row.Select((cell, c) => c is 0 or 1 or 4 or 5 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd());
        return (int)ExitCode.Success;
    }
}
