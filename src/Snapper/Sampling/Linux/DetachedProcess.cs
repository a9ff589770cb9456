using System.Diagnostics;
using System.Globalization;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Starts a program that Snapper will trace without making it a child the .NET runtime tracks. The runtime's
/// SIGCHLD handling calls waitpid for the children it started; for a traced child it is handed ptrace stops,
/// takes them for exits (Process.HasExited turns true while the child runs on), and was seen spinning at shutdown.
/// So the program is started by /bin/sh in the background: sh exits at once, the program is reparented, and
/// its stdin and stdout stay connected to Snapper through pipes.
/// </summary>
public sealed class DetachedProcess : IDisposable
{
    readonly Process _shell;

    public int Pid { get; }
    public StreamReader Output => _shell.StandardOutput;
    public StreamWriter Input => _shell.StandardInput;

    DetachedProcess(Process shell, int pid)
    {
        _shell = shell;
        Pid = pid;
    }

    public static DetachedProcess Start(string file, IEnumerable<string> args)
    {
        // fd 3 carries stdin past the shell's rule that a background command reads /dev/null; "$!" is the program.
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["-c", "exec 3<&0; \"$0\" \"$@\" 0<&3 3<&- & echo $!", file, .. args]) info.ArgumentList.Add(arg);
        var shell = Process.Start(info) ?? throw new InvalidOperationException("could not start /bin/sh");
        var line = shell.StandardOutput.ReadLine();
        shell.WaitForExit();
        if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            throw new InvalidOperationException($"could not start {file}");
        return new DetachedProcess(shell, pid);
    }

    /// <summary>Kills the program if it is still the one started (its pid may have been reused once it exited).</summary>
    public void Dispose()
    {
        if (ProcFs.ReadCommandLine(Pid).Length > 0 && ProcFs.ReadThreadState(Pid, Pid) is not ('Z' or '?'))
            Native.Kill(Pid, Native.SIGKILL);
        _shell.Dispose();
    }
}
