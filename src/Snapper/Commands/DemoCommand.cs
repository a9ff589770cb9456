using System.CommandLine;
using Snapper.Sampling.Linux;
using Snapper.Cli;
using Snapper.Sampling;
using Snapper.Store;

namespace Snapper.Commands;

/// <summary><c>snapper demo</c>: start the bundled example target, sample it, and write the store and report.</summary>
public static class DemoCommand
{
    static readonly Option<string> Db = new("--db") { Description = "The SQLite store to write.", DefaultValueFactory = _ => Path.Combine("snapper-demo", "snapper.db"), HelpName = "path" };
    static readonly Option<string> ReportPath = new("--report") { Description = "The HTML report to write.", DefaultValueFactory = _ => Path.Combine("snapper-demo", "report.html"), HelpName = "path" };
    static readonly Option<int> Count = new("--count", "-n") { Description = "Samples to take.", DefaultValueFactory = _ => 300, HelpName = "n" };
    static readonly Option<Engine> EngineOption = CommonOptions.Choice("--engine", "Sampling engine (see 'snapper sample --help').", Engine.Ptrace);
    static readonly Option<bool> NativeFrames = CommonOptions.NativeFrames();

    public static Command Create()
    {
        var command = new Command("demo", """
            Run Snapper end to end on the bundled example: start examples/DemoTarget (an "order service" with a
            CPU-bound recursion, a lock wait, a sleep, a P/Invoke and a blocked socket read), sample it at 100 Hz,
            write the SQLite store and the HTML report, stop the example, and print where the files are.
            """)
        { Db, ReportPath, Count, EngineOption, NativeFrames };
        command.SetAction(result => CommandRunner.Run(() => Execute(result)));
        return command;
    }

    static int Execute(ParseResult result)
    {
        var count = result.GetValue(Count);
        if (count <= 0) throw new SnapperException(ExitCode.InvalidArguments, $"--count must be a positive number, not {count}");
        var dbPath = result.GetValue(Db)!;
        var reportPath = result.GetValue(ReportPath)!;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(dbPath))!);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(reportPath))!);
        ReportFiles.EnsureWritable(reportPath);
        var nativeFrames = result.GetValue(NativeFrames);
        if (nativeFrames && result.GetValue(EngineOption) == Engine.Attach)
            throw new SnapperException(ExitCode.InvalidArguments, "--native needs the ptrace engine (--engine ptrace, the default)");

        using var target = StartTarget();
        Console.WriteLine($"Started the demo target (pid {target.Pid}).");
        using var db = SnapperDatabase.Open(dbPath);
        var plan = new SamplingPlan(TimeSpan.FromMilliseconds(10), count, null);
        // The session records the command line: that is where a reader finds whether native frames were unwound.
        var options = new CaptureOptions(TargetProcess.Inspect(target.Pid), plan, result.GetValue(EngineOption), 256,
            nativeFrames ? "snapper demo --native" : "snapper demo", NativeFrames: nativeFrames);
        ReportedCapture.Run(db, dbPath, options, _ => reportPath, Report.ReportOptions.Default);
        Console.WriteLine($"Next:     snapper report --db {dbPath} --format text");
        return (int)ExitCode.Success;
    }

    /// <summary>Starts DemoTarget (built beside Snapper) and waits for its READY line.</summary>
    static DetachedProcess StartTarget()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "DemoTarget.dll");
        if (!File.Exists(dll))
            throw new SnapperException(ExitCode.NotFound, $"the demo target is missing ({dll}); build the solution first");
        var process = DetachedProcess.Start(DotnetHost.Path, [dll, "--exit-when-stdin-closes"]);
        var ready = process.Output.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(30)) || ready.Result?.StartsWith("READY", StringComparison.Ordinal) != true)
        {
            process.Dispose();
            throw new SnapperException(ExitCode.InternalError, "the demo target did not start (no READY line within 30 s)");
        }
        return process;
    }
}
