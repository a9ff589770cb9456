using System.CommandLine;
using System.Globalization;
using Snapper.Cli;
using Snapper.Sampling;
using Snapper.Store;

namespace Snapper.Commands;

/// <summary><c>snapper sample</c>: capture a live process into the store and write its report.</summary>
public static class SampleCommand
{
    static readonly Option<int> Pid = new("--pid", "-p") { Description = "The process to sample.", Required = true, HelpName = "pid" };
    static readonly Option<int?> Count = new("--count", "-n") { Description = "Stop after this many samples (default 200 when no --duration is given).", HelpName = "n" };
    static readonly Option<double?> Rate = new("--rate", "-r") { Description = "Samples per second (default 100). Each sample stops the target briefly.", HelpName = "hz" };
    static readonly Option<TimeSpan?> Interval = CommonOptions.Duration("--interval", "Time between samples, instead of --rate.");
    static readonly Option<TimeSpan?> Duration = CommonOptions.Duration("--duration", "Stop after this long. With --count, whichever comes first.");
    static readonly Option<string> Db = CommonOptions.Database();
    static readonly Option<string?> ReportPath = new("--report") { Description = "Where to write the HTML report (default: beside the database, named after the session).", HelpName = "path" };
    static readonly Option<bool> NoReport = new("--no-report") { Description = "Store the samples only; render later with 'snapper report'." };
    static readonly Option<int> MaxFrames = new("--max-frames") { Description = "Deepest stack to read per thread.", DefaultValueFactory = _ => 256, HelpName = "n" };
    static readonly Option<ThreadSelection?> Threads = CommonOptions.Threads("Store only the threads whose names match.");
    static readonly Option<bool> Idle = CommonOptions.Idle();
    static readonly Option<bool> ShowSecrets = CommonOptions.ShowSecrets();
    static readonly Option<Engine> EngineOption = CommonOptions.Choice("--engine",
        "ptrace: Snapper's own low-overhead session (default). attach: ClrMD attach per sample, slow; the reference.", Engine.Ptrace);

    public static Command Create()
    {
        var command = new Command("sample", """
            Sample a running .NET process: stop it briefly at each sample, read every managed thread's stack
            (including P/Invoke and runtime transition frames), resume it, and store the samples in SQLite.
            Ctrl+C stops early and still keeps every sample and writes the report.

            Examples:
              snapper sample --pid 1234                      200 samples at 100 Hz, then report
              snapper sample --pid 1234 --duration 30s --rate 50
              snapper sample --pid 1234 --interval 20ms --count 500 --db /var/lib/snapper/app.db
              snapper sample --pid 1234 --threads '^Order'     only the threads whose names start with "Order"

            Each sample records every thread's stack, its state (cpu, lock/wait, sleep, io, idle threadpool), the
            syscall it was blocked in, and the CPU time it used since the previous sample.
            """)
        {
            Pid, Count, Rate, Interval, Duration, Db, ReportPath, NoReport, Threads, Idle, ShowSecrets, MaxFrames, EngineOption,
        };
        command.SetAction(result => CommandRunner.Run(() => Execute(result)));
        return command;
    }

    static int Execute(ParseResult result)
    {
        var plan = Plan(result);
        var maxFrames = result.GetValue(MaxFrames);
        if (maxFrames is < 1 or > 65536)
            throw new SnapperException(ExitCode.InvalidArguments, $"--max-frames must be between 1 and 65536, not {maxFrames}");
        var reportPath = result.GetValue(NoReport) ? null : result.GetValue(ReportPath);
        if (reportPath is not null) ReportFiles.EnsureWritable(reportPath);

        var target = TargetProcess.Inspect(result.GetValue(Pid));
        var dbPath = result.GetValue(Db)!;
        using var db = SnapperDatabase.Open(dbPath);
        var options = new CaptureOptions(target, plan, result.GetValue(EngineOption), maxFrames, CommandLine(), result.GetValue(Threads));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Sampling {target.Name} (pid {target.Pid}) at {plan.RequestedRate:0.##} Hz{Limits(plan)}; Ctrl+C to stop early."));
        // The default report is named after the session, so its path is known only once the session exists.
        Func<long, string>? reportPathFor = result.GetValue(NoReport) ? null : id => reportPath ?? DefaultReportPath(dbPath, id);
        var (session, capture) = ReportedCapture.Run(db, dbPath, options, reportPathFor, CommonOptions.ReportOptions(result, Threads, Idle, ShowSecrets));
        if (capture.Sampler.Reason == SessionEndReason.TargetExited)
            return CommandRunner.Fail(ExitCode.TargetExited, $"the target exited during the capture; the {session.SnapshotCount} samples taken are kept");
        return (int)ExitCode.Success;
    }

    public static string DefaultReportPath(string dbPath, long sessionId) => OutputFile.BesideDatabase(dbPath, sessionId, ".html");

    static SamplingPlan Plan(ParseResult result)
    {
        var rate = result.GetValue(Rate);
        var interval = result.GetValue(Interval);
        if (rate is not null && interval is not null)
            throw new SnapperException(ExitCode.InvalidArguments, "give either --rate or --interval, not both");
        if (rate is { } r && (!double.IsFinite(r) || r < 0.01 || r > 1000))
            throw new SnapperException(ExitCode.InvalidArguments, $"--rate must be between 0.01 and 1000 samples per second, not {r.ToString(CultureInfo.InvariantCulture)}");
        if (interval is { } i && (i < TimeSpan.FromMilliseconds(1) || i > TimeSpan.FromHours(1)))
            throw new SnapperException(ExitCode.InvalidArguments, "--interval must be between 1ms and 1h");
        var count = result.GetValue(Count);
        if (count is <= 0)
            throw new SnapperException(ExitCode.InvalidArguments, $"--count must be a positive number, not {count}");
        var duration = result.GetValue(Duration);
        if (duration is { } d && d <= TimeSpan.Zero)
            throw new SnapperException(ExitCode.InvalidArguments, "--duration must be longer than zero");
        if (count is null && duration is null) count = 200;
        var period = interval ?? TimeSpan.FromSeconds(1.0 / (rate ?? 100));
        return new SamplingPlan(period, count, duration);
    }

    static string Limits(SamplingPlan plan) => (plan.Count, plan.Duration) switch
    {
        ({ } c, { } d) => $", {c} samples or {d.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s",
        ({ } c, null) => $", {c} samples",
        (null, { } d) => $", for {d.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s",
        _ => "",
    };

    static string CommandLine() => "snapper " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
}
