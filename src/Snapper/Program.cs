using System.CommandLine;
using Snapper.Cli;
using Snapper.Commands;

namespace Snapper;

static class Program
{
    static int Main(string[] args)
    {
        var root = new RootCommand("""
            Snapper: a sampling profiler for live .NET processes. It stops the target for a moment at each sample,
            reads every thread's stack from outside (no code change, no agent), stores the samples in SQLite, and
            renders self-contained HTML reports or exports for speedscope, flamegraph.pl, pprof and Perfetto.

            Start with 'snapper demo', or 'snapper sample --pid <pid>'. Needs root or CAP_SYS_PTRACE.
            """)
        {
            SampleCommand.Create(),
            ReportCommand.Create(),
            ExportCommand.Create(),
            SessionsCommand.Create(),
            PsCommand.Create(),
            PruneCommand.Create(),
            DiffCommand.Create(),
            DumpCommand.Create(),
            DemoCommand.Create(),
        };
        // No command at all: show what there is rather than an error.
        var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parse.Errors.Count > 0)
        {
            var command = string.Join(' ', parse.CommandResult.Command.Name == root.Name ? [] : new[] { parse.CommandResult.Command.Name });
            // "Unrecognized command or argument 'smaple'" says more than "Required command was not provided".
            var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
            return CommandRunner.Fail(ExitCode.InvalidArguments,
                $"{error.Message.ReplaceLineEndings(" ")} (see 'snapper {command}{(command.Length > 0 ? " " : "")}--help')");
        }
        // Snapper handles SIGINT/SIGTERM itself (see Signals); the default handler would kill a capture mid-sample.
        return parse.Invoke(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
    }
}
