using System.Globalization;
using Snapper.Sampling;
using Snapper.Report;
using Snapper.Store;

namespace Snapper.Cli;

/// <summary>
/// <c>sample --name X --all</c>: every process of that name captured at once, each into its own session of one
/// store (each capture writes through its own connection; WAL and short transactions keep them from blocking each
/// other). One Ctrl+C ends them all. A target that cannot be sampled does not stop the others.
/// </summary>
public static class ParallelCaptures
{
    public static int Run(string dbPath, IReadOnlyList<CaptureOptions> captures, Func<long, string>? reportPathFor,
        Report.ReportOptions reportOptions, bool quiet)
    {
        using var signals = new Signals();
        var runs = captures.Select(options => Task.Run(() =>
        {
            using var db = SnapperDatabase.Open(dbPath);
            return CaptureRunner.Run(db, options, signals.Token);
        })).ToArray();
        try
        {
            Task.WaitAll(runs);
        }
        catch (AggregateException)
        {
            // Each failure is reported below, with the target it belongs to.
        }

        var exit = ExitCode.Success;
        using var store = SnapperDatabase.Open(dbPath);
        for (var i = 0; i < runs.Length; i++)
        {
            var target = captures[i].Target;
            if (runs[i].IsFaulted)
            {
                var error = runs[i].Exception!.InnerException!;
                var code = error switch
                {
                    SnapperException s => s.Code,
                    TargetRefusedException refused => CommandRunner.ExitCodeOf(refused.Problem),
                    _ => ExitCode.InternalError,
                };
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"error: pid {target.Pid} ({target.Name}): {error.Message}"));
                if (exit == ExitCode.Success) exit = code;
                continue;
            }
            var session = SessionQueries.Find(store, runs[i].Result.SessionId)!;
            if (!quiet) Console.WriteLine(SessionSummary.Describe(session));
            if (reportPathFor?.Invoke(session.Id) is { } reportPath)
            {
                ReportFiles.Write(ProfileReader.Load(store, session), ReportFileFormat.Html, reportPath, reportOptions);
                if (!quiet) Console.WriteLine($"Report:   {Path.GetFullPath(reportPath)}");
            }
        }
        if (!quiet) Console.WriteLine($"Database: {Path.GetFullPath(dbPath)}");
        return (int)exit;
    }
}
