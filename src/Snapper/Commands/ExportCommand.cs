using System.CommandLine;
using Snapper.Cli;
using Snapper.Report;
using Snapper.Report.Export;
using Snapper.Store;

namespace Snapper.Commands;

/// <summary><c>snapper export</c>: write a stored session in a format other profiling tools open.</summary>
public static class ExportCommand
{
    static readonly Option<string> Db = CommonOptions.Database();
    static readonly Option<string> Session = new("--session", "-s")
    {
        Description = "Session id, or 'latest'.",
        DefaultValueFactory = _ => "latest",
        HelpName = "id",
    };
    static readonly Option<ExportFormat> Format = CommonOptions.RequiredChoice<ExportFormat>("--format",
        "speedscope: speedscope.app. folded: flamegraph.pl, inferno, speedscope. pprof: go tool pprof, pprof viewers. " +
        "chromium: Perfetto, chrome://tracing, DevTools (a timeline per thread).", "-f");
    static readonly Option<string?> Output = new("--output", "-o")
    {
        Description = "Output file, '-' for stdout (text formats only). Default: a file beside the database, " +
                      "<db>-session-<id>.speedscope.json, .folded, .pb.gz or .trace.json.",
        HelpName = "path",
    };
    static readonly Option<bool> PerThread = new("--per-thread")
    {
        Description = "folded only: put each thread's name and id in front of its stacks as the root frame.",
    };
    static readonly Option<ThreadSelection?> Threads = CommonOptions.Threads("Export only the threads whose names match.");
    static readonly Option<bool> Idle = IdleOption();
    static readonly Option<FocusPattern?> Focus = CommonOptions.Focus("Export only the samples whose stack has a frame matching this.");
    static readonly Option<string?> Layer = CommonOptions.LayerFilter("Export");
    static readonly Option<string?> LayersFile = CommonOptions.LayersFile();

    static Option<bool> IdleOption()
    {
        var idle = CommonOptions.Idle();
        idle.Description = "Export the samples of idle thread-pool threads (workers parked waiting for work, the timer, gate and "
            + "socket-engine threads) too. By default they are left out, as 'snapper report' leaves them out of its totals.";
        return idle;
    }

    public static Command Create()
    {
        var command = new Command("export", """
            Write a stored session in a format other profiling tools open (see docs/exports.md).
            Every format counts the samples 'snapper report' counts with the same --threads and --idle. Wall time is
            samples x the achieved sampling interval; CPU time (speedscope, pprof) is what each thread used.

            Examples:
              snapper export -f speedscope -o app.speedscope.json   then open it in https://www.speedscope.app
              snapper export -f folded --per-thread -o - | flamegraph.pl > flame.svg
              snapper export -f pprof --session 3 -o app.pb.gz     then: go tool pprof -http=: app.pb.gz
              snapper export -f chromium -o app.trace.json         then open it in https://ui.perfetto.dev
              snapper export -f pprof --threads 'Worker|Order' --idle -o workers.pb.gz
              snapper export -f speedscope --focus 'OrdersController.Checkout' --layer sql -o checkout-sql.json
            """)
        { Db, Session, Format, Output, PerThread, Threads, Idle, Focus, Layer, LayersFile };
        command.SetAction(result => CommandRunner.Run(() => Execute(result)));
        return command;
    }

    /// <summary>No format is a better default than another: each one is for a different tool, so the user names it.</summary>
    static int Execute(ParseResult result)
    {
        var format = result.GetValue(Format);
        var rules = CommonOptions.LoadLayerRules(result.GetValue(LayersFile));
        var layers = CommonOptions.ParseLayerFilter(result.GetValue(Layer), rules);
        var perThread = result.GetValue(PerThread);
        var output = result.GetValue(Output);
        if (perThread && format != ExportFormat.Folded)
            throw new SnapperException(ExitCode.InvalidArguments, $"--per-thread applies to --format folded only (every {Name(format)} export has each thread already)");
        var exporter = ProfileExporters.Create(format, new ExportOptions(perThread));
        if (output == "-" && !exporter.IsText)
            throw new SnapperException(ExitCode.InvalidArguments, $"{Name(format)} is a binary format: write it to a file with -o <path>, not to stdout");
        if (output is not null) OutputFile.EnsureWritable(output, "export");

        var dbPath = result.GetValue(Db)!;
        using var db = AbandonedSessions.OpenExisting(dbPath);
        var session = ReportCommand.FindSession(db, result.GetValue(Session)!);
        if (output is null)
        {
            output = OutputFile.BesideDatabase(dbPath, session.Id, exporter.FileExtension);
            OutputFile.EnsureWritable(output, "export");
        }
        var profile = ProfileFilter.Apply(ProfileReader.Load(db, session), new ReportOptions
        {
            Threads = result.GetValue(Threads),
            IncludeIdle = result.GetValue(Idle),
            Focus = result.GetValue(Focus),
            Layers = layers,
            LayerRules = rules,
        });
        OutputFile.Write(output, "export", stream => exporter.Write(profile, stream));
        if (output != "-") Console.WriteLine($"Export: {Path.GetFullPath(output)}");
        return (int)ExitCode.Success;
    }

    static string Name(ExportFormat format) => format.ToString().ToLowerInvariant();
}
