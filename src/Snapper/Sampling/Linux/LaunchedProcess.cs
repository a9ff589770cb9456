using System.Diagnostics;
using System.Globalization;

namespace Snapper.Sampling.Linux;

/// <summary>
/// A command Snapper starts to profile it from its start (<c>snapper sample -- cmd args</c>). Like
/// <see cref="DetachedProcess"/> it is started by /bin/sh in the background, so that the .NET runtime does not
/// track it as a child (its SIGCHLD handling would take the ptrace stops Snapper waits for); unlike it, the command
/// keeps Snapper's terminal: its input, output and errors are the user's.
/// </summary>
public static class LaunchedProcess
{
    public static int Start(string file, IReadOnlyList<string> args)
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"snapper-launch-{Environment.ProcessId}-{Guid.NewGuid():N}.pid");
        try
        {
            // fd 3 carries stdin past the shell's rule that a background command reads /dev/null; its pid goes to a file
            // because stdout is the command's.
            var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            foreach (var arg in (string[])["-c", "exec 3<&0; \"$0\" \"$@\" 0<&3 3<&- & echo $! > \"$SNAPPER_PID_FILE\"", file, .. args])
                info.ArgumentList.Add(arg);
            info.Environment["SNAPPER_PID_FILE"] = pidFile;
            using var shell = Process.Start(info) ?? throw new InvalidOperationException("could not start /bin/sh");
            shell.WaitForExit();
            var text = File.Exists(pidFile) ? File.ReadAllText(pidFile).Trim() : "";
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                ? pid
                : throw new InvalidOperationException($"could not start {file}");
        }
        finally
        {
            File.Delete(pidFile);
        }
    }
}
