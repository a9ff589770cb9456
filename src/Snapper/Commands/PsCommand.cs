using System.CommandLine;
using System.Globalization;
using Snapper.Cli;
using Snapper.Report;
using Snapper.Sampling;

namespace Snapper.Commands;

/// <summary><c>snapper ps</c>: the .NET processes on this machine, and whether Snapper can sample them.</summary>
public static class PsCommand
{
    static readonly Option<bool> ShowSecrets = CommonOptions.ShowSecrets();

    public static Command Create()
    {
        var command = new Command("ps", """
            List the .NET processes on this machine: pid, name (the app's, not "dotnet"), runtime version, start time
            (UTC), command line, and why Snapper cannot sample one now, if it cannot. Use the name with
            'snapper sample --name'.
            """)
        { ShowSecrets };
        command.SetAction(result => CommandRunner.Run(() => Execute(result.GetValue(ShowSecrets))));
        return command;
    }

    static int Execute(bool showSecrets)
    {
        var processes = DotnetProcesses.List();
        if (processes.Count == 0)
        {
            Console.WriteLine("No .NET processes found (Snapper looks for processes with the CoreCLR runtime loaded).");
            return (int)ExitCode.Success;
        }
        var rows = new List<string[]> { new[] { "PID", "NAME", "RUNTIME", "STARTED (UTC)", "STATUS", "COMMAND" } };
        foreach (var p in processes)
            rows.Add([
                p.Pid.ToString(CultureInfo.InvariantCulture),
                p.Name,
                p.RuntimeVersion ?? "?",
                p.StartedUtc?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "?",
                p.Problem ?? (p.InContainer ? "ok (in a container)" : "ok"),
                TerminalText.Clean(showSecrets ? p.CommandLine : CommandLineRedactor.Redact(p.CommandLine)),
            ]);
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
            Console.WriteLine(string.Join("  ", row.Select((cell, c) => c == 0 ? cell.PadLeft(widths[c]) : c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
        return (int)ExitCode.Success;
    }
}
