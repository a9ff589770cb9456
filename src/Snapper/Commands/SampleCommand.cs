using System.CommandLine;
using System.Globalization;
using Snapper.Cli;
using Snapper.Sampling;
using Snapper.Store;

namespace Snapper.Commands;

/// <summary><c>snapper sample</c>: capture a live process into the store and write its report.</summary>
public static class SampleCommand
{
    static readonly Option<int?> Pid = new("--pid", "-p") { Description = "The process to sample.", HelpName = "pid" };
    static readonly Option<string?> Name = new("--name")
    {
        Description = "The .NET process to sample, by name (as 'snapper ps' shows it: the app's name, not \"dotnet\"). Instead of --pid.",
        HelpName = "name",
    };
    static readonly Option<bool> IfRunning = new("--if-running")
    {
        Description = "With --name: when no such process is running, exit 0 without a word instead of failing with code 11 (for cron, when the service may be down).",
    };
    static readonly Option<bool> All = new("--all")
    {
        Description = "With --name: when several processes have the name, sample each of them at once, each into its own session.",
    };
    static readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Print nothing but errors (for cron and systemd)." };
    static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Also print where each sample's time went (stopping, walking, resuming, naming), threads stopped and memory reads per sample.",
    };
    static readonly Argument<string[]> Launch = new("command")
    {
        Description = "After '--': a command to start and profile from its start until it exits, instead of --pid or --name.",
        Arity = ArgumentArity.ZeroOrMore,
    };
    static readonly Option<TimeSpan?> Keep = CommonOptions.Duration("--keep",
        "After the capture, delete the database's sessions started longer ago than this (as 'snapper prune --older-than').");
    static readonly Option<int?> Count = new("--count", "-n") { Description = "Stop after this many samples (default 200 when no --duration is given).", HelpName = "n" };
    static readonly Option<double?> Rate = new("--rate", "-r") { Description = "Samples per second (default 100). Each sample stops the target briefly.", HelpName = "hz" };
    static readonly Option<TimeSpan?> Interval = CommonOptions.Duration("--interval", "Time between samples, instead of --rate.");
    static readonly Option<TimeSpan?> Duration = CommonOptions.Duration("--duration", "Stop after this long. With --count, whichever comes first.");
    static readonly Option<string> Db = CommonOptions.Database(creates: true);
    static readonly Option<string?> ReportPath = new("--report") { Description = "Where to write the HTML report (default: beside the database, named after the session).", HelpName = "path" };
    static readonly Option<bool> NoReport = new("--no-report") { Description = "Store the samples only; render later with 'snapper report'." };
    static readonly Option<int> MaxFrames = new("--max-frames") { Description = "Deepest stack to read per thread.", DefaultValueFactory = _ => 256, HelpName = "n" };
    static readonly Option<ThreadSelection?> Threads = CommonOptions.Threads("Store only the threads whose names match.");
    static readonly Option<bool> Idle = CommonOptions.Idle();
    static readonly Option<bool> ShowSecrets = CommonOptions.ShowSecrets();
    static readonly Option<FocusPattern?> Focus = CommonOptions.Focus(
        "Store only the thread samples whose stack has a frame matching this (one kind of request, say); the session records how many samples were seen and kept.");
    static readonly Option<long?> FocusCount = new("--focus-count")
    {
        Description = "With --focus: stop once this many matching samples are stored (--count and --duration still apply; without "
            + "them the capture runs until this count, or Ctrl+C).",
        HelpName = "n",
    };
    static readonly Option<string?> LayersFile = CommonOptions.LayersFile();
    static readonly Option<Engine> EngineOption = CommonOptions.Choice("--engine",
        "ptrace: Snapper's own low-overhead session (default). dac: the same session, every thread walked by the runtime's DAC (slower; a reference for ptrace's own walk). attach: ClrMD attach per sample, slow; the first reference.", Engine.Ptrace);

    static readonly Option<bool> NativeFrames = CommonOptions.NativeFrames();

    static readonly Option<string?> MaxOverhead = new("--max-overhead")
    {
        Description = string.Create(CultureInfo.InvariantCulture,
            $"The most of the target Snapper may take: the larger of the share of time the target is held stopped and Snapper's CPU as a share of one core. "
            + $"Past it the rate is lowered (each sample then counts for the intervals it stands for, so shares stay right) and the session records when. "
            + $"Default {OverheadBudget.Default:0%}, {OverheadBudget.UnattendedDefault:0%} with --if-running (cron); 'off' only measures it."),
        HelpName = "percent",
    };

    public static Command Create()
    {
        var command = new Command("sample", """
            Sample a running .NET process: stop it briefly at each sample, read every managed thread's stack
            (including P/Invoke and runtime transition frames), resume it, and store the samples in SQLite.
            Ctrl+C stops early and still keeps every sample and writes the report.

            Examples:
              snapper sample --pid 1234                      200 samples at 100 Hz, then report
              snapper sample --name Orders --duration 30s --quiet --if-running   from cron
              snapper sample -- dotnet MyApp.dll --port 8080  start it, profile it until it exits
              snapper sample --pid 1234 --duration 30s --rate 50
              snapper sample --pid 1234 --interval 20ms --count 500 --db /var/lib/snapper/app.db
              snapper sample --pid 1234 --threads '^Order'     only the threads whose names start with "Order"
              snapper sample --pid 1234 --native             also the native frames (libc, the runtime) on top
              snapper sample --pid 1234 --max-overhead 2%    lower the rate whenever Snapper would take more than 2%
              snapper sample --name Shop --focus 'OrdersController.Checkout' --focus-count 100
                                                             100 samples taken inside Checkout requests, nothing else

            Each sample records every thread's stack, its state (cpu, lock/wait, sleep, io, idle threadpool), the
            syscall it was blocked in, and the CPU time it used since the previous sample: on the stack seen, or on a
            "[ran between samples]" frame of that thread when it was sleeping, in I/O or idle. The report shows where the
            samples went by layer (sql, http-client, serialization, views, aspnet, app, locks, runtime, idle).

            """ + CommonOptions.LayersHelp)
        {
            Pid, Name, All, IfRunning, Count, Rate, Interval, Duration, Db, ReportPath, NoReport, Threads, Focus, FocusCount, Idle, ShowSecrets,
            LayersFile, MaxFrames, EngineOption, NativeFrames, MaxOverhead, Quiet, Verbose, Keep, Launch,
        };
        command.SetAction(result => CommandRunner.Run(() => Execute(result)));
        return command;
    }

    static int Execute(ParseResult result)
    {
        var plan = Plan(result);
        if (result.GetValue(Keep) is { } k && k <= TimeSpan.Zero)
            throw new SnapperException(ExitCode.InvalidArguments, "--keep must be longer than zero");
        var maxFrames = result.GetValue(MaxFrames);
        if (maxFrames is < 1 or > 65536)
            throw new SnapperException(ExitCode.InvalidArguments, $"--max-frames must be between 1 and 65536, not {maxFrames}");
        var nativeFrames = result.GetValue(NativeFrames);
        if (nativeFrames && result.GetValue(EngineOption) == Engine.Attach)
            throw new SnapperException(ExitCode.InvalidArguments, "--native needs the ptrace engine (--engine ptrace, the default, or dac)");
        var focus = result.GetValue(Focus);
        var focusCount = result.GetValue(FocusCount);
        if (focusCount is not null && focus is null)
            throw new SnapperException(ExitCode.InvalidArguments, "--focus-count goes with --focus (it counts the samples the focus keeps)");
        if (focusCount is <= 0)
            throw new SnapperException(ExitCode.InvalidArguments, $"--focus-count must be a positive number, not {focusCount}");
        var budget = OverheadBudget.Resolve(result.GetValue(MaxOverhead), unattended: result.GetValue(IfRunning));
        var rules = CommonOptions.LoadLayerRules(result.GetValue(LayersFile));
        var reportPath = result.GetValue(NoReport) ? null : result.GetValue(ReportPath);
        if (reportPath is not null) ReportFiles.EnsureWritable(reportPath);
        var dbPath = result.GetValue(Db)!;
        // Create (or upgrade) the store now: one that cannot be written fails before any target is touched or started.
        using (var store = SnapperDatabase.Open(dbPath))
            store.WaitUntilWritable(() => Console.Error.WriteLine($"Waiting for {dbPath}: another writer holds it (up to 30 s)..."));

        var quiet = result.GetValue(Quiet);
        var launched = result.GetValue(Launch) is { Length: > 0 } command ? LaunchAndWaitForRuntime(result, command) : null;
        var targets = launched is not null ? [launched] : FindTargets(result);
        if (targets.Count == 0) return (int)ExitCode.Success; // --if-running, and it is not
        if (targets.Count > 1)
        {
            if (!quiet) Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Sampling {targets.Count} processes named {targets[0].Name} (pids {string.Join(", ", targets.Select(t => t.Pid))}) at {plan.RequestedRate:0.##} Hz{Limits(plan)}{BudgetNote(budget)}; Ctrl+C to stop early."));
            var exit = ParallelCaptures.Run(dbPath,
                targets.Select(t => new CaptureOptions(t, plan, result.GetValue(EngineOption), maxFrames, CommandLine(), result.GetValue(Threads), focus, focusCount, nativeFrames, budget)).ToList(),
                result.GetValue(NoReport) ? null : id => DefaultReportPath(dbPath, id),
                CommonOptions.ReportOptions(result, Threads, Idle, ShowSecrets) with { LayerRules = rules }, quiet);
            if (result.GetValue(Keep) is { } keepAll)
            {
                using var store = SnapperDatabase.Open(dbPath);
                var pruned = Retention.Prune(store, keepAll, null, dryRun: false);
                if (!quiet && pruned.Deleted.Count > 0) Console.WriteLine(Retention.Describe(pruned, dryRun: false));
            }
            return exit;
        }
        var target = targets[0];
        using var db = SnapperDatabase.Open(dbPath);
        var options = new CaptureOptions(target, plan, result.GetValue(EngineOption), maxFrames, CommandLine(), result.GetValue(Threads), focus, focusCount, nativeFrames, budget);
        if (!quiet)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Sampling {target.Name} (pid {target.Pid}) at {plan.RequestedRate:0.##} Hz{Limits(plan)}{BudgetNote(budget)}{FocusNote(focus, focusCount)}; Ctrl+C to stop early."));
        // The default report is named after the session, so its path is known only once the session exists.
        Func<long, string>? reportPathFor = result.GetValue(NoReport) ? null : id => reportPath ?? DefaultReportPath(dbPath, id);
        var reportOptions = CommonOptions.ReportOptions(result, Threads, Idle, ShowSecrets) with { LayerRules = rules };
        var (session, capture) = launched is null
            ? ReportedCapture.Run(db, dbPath, options, reportPathFor, reportOptions, quiet)
            : RunWhenReadable(() => ReportedCapture.Run(db, dbPath, options, reportPathFor, reportOptions, quiet));
        if (result.GetValue(Verbose) && !quiet) Console.WriteLine(Describe(capture.Timings));
        if (result.GetValue(Keep) is { } keep)
        {
            var pruned = Retention.Prune(db, keep, null, dryRun: false);
            if (!quiet && pruned.Deleted.Count > 0) Console.WriteLine(Retention.Describe(pruned, dryRun: false));
        }
        if (capture.Sampler.Reason == SessionEndReason.Failed)
            return CommandRunner.Fail(ExitCode.SamplingFailed, $"{capture.Sampler.Message}; the {session.SnapshotCount} samples taken are kept");
        // A launched command is profiled until it exits: that is the end, not a failure.
        if (capture.Sampler.Reason == SessionEndReason.TargetExited && launched is null)
            return CommandRunner.Fail(ExitCode.TargetExited, $"the target exited during the capture; the {session.SnapshotCount} samples taken are kept");
        return (int)ExitCode.Success;
    }

    static string BudgetNote(double? budget) => budget is { } b ? string.Create(CultureInfo.InvariantCulture, $" (overhead at most {b * 100:0.##}%)") : "";

    /// <summary>
    /// Starts the command after '--' and waits (up to 10 s) until its .NET runtime is loaded, so that sampling can
    /// begin: from then on every sample counts. A command that exits first, or loads no runtime, is an error.
    /// </summary>
    static TargetProcess LaunchAndWaitForRuntime(ParseResult result, string[] command)
    {
        // Words that match no option end up here too: "--stor x" is a mistyped option, not a program to start.
        if (command[0].StartsWith('-'))
            throw new SnapperException(ExitCode.InvalidArguments, $"unknown option '{command[0]}' (see 'snapper sample --help')");
        if (result.GetValue(Pid) is not null || result.GetValue(Name) is not null)
            throw new SnapperException(ExitCode.InvalidArguments, $"unexpected '{string.Join(' ', command)}': give --pid, --name or a command after '--', not several");
        int pid;
        try
        {
            pid = Sampling.Linux.LaunchedProcess.Start(command[0], command[1..]);
        }
        catch (InvalidOperationException e)
        {
            throw new SnapperException(ExitCode.NoSuchProcess, e.Message);
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                return TargetProcess.Inspect(pid);
            }
            catch (TargetRefusedException e) when (e.Problem == TargetProblem.NotDotNet && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20); // the runtime is not loaded yet
            }
            catch (TargetRefusedException e) when (e.Problem == TargetProblem.NoSuchProcess)
            {
                throw new SnapperException(ExitCode.NoSuchProcess, $"'{command[0]}' exited before its .NET runtime could be read");
            }
        }
    }

    /// <summary>
    /// A command just launched has its runtime mapped a moment before the runtime's data can be read: opening the
    /// capture is retried for a few seconds. Nothing is stored until it opens.
    /// </summary>
    static T RunWhenReadable<T>(Func<T> capture)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                return capture();
            }
            catch (TargetRefusedException e) when (e.Problem == TargetProblem.NotDotNet && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>The process --pid or --name names (several with --all); none when --if-running and no process has the name.</summary>
    static List<TargetProcess> FindTargets(ParseResult result)
    {
        var pid = result.GetValue(Pid);
        var name = result.GetValue(Name);
        if ((pid is null) == (name is null))
            throw new SnapperException(ExitCode.InvalidArguments, "give the process to sample with --pid or --name (see 'snapper ps')");
        if (result.GetValue(Quiet) && result.GetValue(Verbose))
            throw new SnapperException(ExitCode.InvalidArguments, "--quiet and --verbose say opposite things: give one");
        if (result.GetValue(All) && name is null)
            throw new SnapperException(ExitCode.InvalidArguments, "--all goes with --name");
        if (pid is { } id) return [TargetProcess.Inspect(id)];
        var matches = DotnetProcesses.Named(name!);
        if (matches.Count == 0)
        {
            if (result.GetValue(IfRunning)) return [];
            throw new SnapperException(ExitCode.NoMatchingProcess, $"no .NET process named '{name}' is running (see 'snapper ps')");
        }
        if (matches.Count > 1 && result.GetValue(All))
        {
            if (result.GetValue(ReportPath) is not null)
                throw new SnapperException(ExitCode.InvalidArguments, "--report names one file: with --all each session gets its own report beside the database");
            return matches.Select(m => TargetProcess.Inspect(m.Pid)).ToList();
        }
        if (matches.Count > 1)
            throw new SnapperException(ExitCode.InvalidArguments, $"{matches.Count} .NET processes are named '{name}': " +
                string.Join(", ", matches.Select(m => string.Create(CultureInfo.InvariantCulture, $"pid {m.Pid} ({Report.CommandLineRedactor.Redact(m.CommandLine)})"))) +
                "; pick one with --pid, or sample them all with --all");
        return [TargetProcess.Inspect(matches[0].Pid)];
    }

    /// <summary>"per sample: survey threads 0.02 ms, choose 0.05 ms, stop 0.20 ms, ...; 4.1 threads stopped, 100 memory reads".</summary>
    static string Describe(PhaseTimings timings)
    {
        var phases = string.Join(", ", timings.Means().Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Phase} {p.Ms:0.00} ms")));
        var perSample = timings.Snapshots == 0 ? 0 : 1.0 / timings.Snapshots;
        return string.Create(CultureInfo.InvariantCulture,
            $"Per sample: {phases}; {timings.ThreadsStopped * perSample:0.0} threads stopped, {timings.RunningReused * perSample:0.0} of them not walked (looping where they were), {timings.DacWalks * perSample:0.0} walked by the DAC (the rest without it), {timings.RunningUnstopped * perSample:0.0} looping threads waiting for a CPU read without a stop, {timings.WalkedUnstopped * perSample:0.0} threads off a CPU walked without a stop, {timings.MovedSinceSurvey * perSample:0.00} woken between the survey and the stop, {timings.MemoryReads * perSample:0} memory reads.");
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
        // A launched command is profiled until it exits, unless told otherwise.
        // --focus-count alone: the focused samples are the limit.
        if (count is null && duration is null && result.GetValue(Launch) is not { Length: > 0 } && result.GetValue(FocusCount) is null) count = 200;
        var period = interval ?? TimeSpan.FromSeconds(1.0 / (rate ?? 100));
        return new SamplingPlan(period, count, duration);
    }

    static string FocusNote(FocusPattern? focus, long? count) => focus is null ? ""
        : $", keeping only samples matching /{focus.Pattern}/" + (count is { } n ? string.Create(CultureInfo.InvariantCulture, $" until {n} are kept") : "");

    static string Limits(SamplingPlan plan) => (plan.Count, plan.Duration) switch
    {
        ({ } c, { } d) => $", {c} samples or {d.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s",
        ({ } c, null) => $", {c} samples",
        (null, { } d) => $", for {d.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s",
        _ => "",
    };

    static string CommandLine() => "snapper " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
}
