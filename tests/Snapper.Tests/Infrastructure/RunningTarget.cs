using System.Diagnostics;

namespace Snapper.Tests.Infrastructure;

/// <summary>
/// A target program started for a test: waits for its READY line (never sleep-and-hope) and always kills it on
/// dispose, whatever the test did.
/// </summary>
public sealed class RunningTarget : IDisposable
{
    readonly int? _pid;

    public Process Process { get; }

    /// <summary>The target's pid (not the shell's, for one started by <see cref="StartNotAsChild"/>).</summary>
    public int Pid => _pid ?? Process.Id;

    RunningTarget(Process process, int? pid = null) => (Process, _pid) = (process, pid);

    /// <summary>Starts the test target (tests/Snapper.TestTarget) with a scenario.</summary>
    public static RunningTarget StartTestTarget(params string[] args) =>
        Start(Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll"), args);

    /// <summary>Starts the demo target (examples/DemoTarget).</summary>
    public static RunningTarget StartDemoTarget() => Start(Path.Combine(AppContext.BaseDirectory, "DemoTarget.dll"), []);

    public static RunningTarget Start(string dll, string[] args)
    {
        // stdin is a pipe kept open: targets that answer queries on stdin end when it closes.
        var info = new ProcessStartInfo(Dotnet.Host, [dll, .. args]) { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        return StartAndWait(info);
    }

    /// <summary>Starts any program that prints a line starting with READY once it is in its steady state.</summary>
    public static RunningTarget StartAndWait(ProcessStartInfo info) =>
        WaitForReady(new RunningTarget(Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}")), info);

    /// <summary>
    /// As <see cref="StartAndWait"/>, but through /bin/sh in the background, so that the program is not this process's
    /// child: for a test that traces it from here (ClrMD's attach). The runtime reaps its own children with waitpid when
    /// SIGCHLD comes, and a ptrace stop of the child's main thread sends one: taken by the runtime, the stop never came
    /// to ClrMD, which waited for it forever (as Snapper's launched targets, see LaunchedProcess). Its standard input is
    /// /dev/null; disposing kills the shell and the program.
    /// </summary>
    public static RunningTarget StartNotAsChild(ProcessStartInfo info)
    {
        var shell = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in (string[])["-c", "\"$0\" \"$@\" & echo \"PID $!\"; wait", info.FileName, .. info.ArgumentList]) shell.ArgumentList.Add(arg);
        foreach (var (name, value) in info.Environment) shell.Environment[name] = value;
        var process = Process.Start(shell) ?? throw new InvalidOperationException("could not start /bin/sh");
        var first = process.StandardOutput.ReadLine() ?? "";
        if (!first.StartsWith("PID ", StringComparison.Ordinal) || !int.TryParse(first[4..], out var pid))
        {
            new RunningTarget(process).Dispose();
            throw new InvalidOperationException($"/bin/sh did not start {info.FileName} (got '{first}')");
        }
        return WaitForReady(new RunningTarget(process, pid), info);
    }

    static RunningTarget WaitForReady(RunningTarget target, ProcessStartInfo info)
    {
        var process = target.Process;
        var line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result?.StartsWith("READY", StringComparison.Ordinal) != true)
        {
            target.Dispose();
            throw new InvalidOperationException($"{info.FileName} {string.Join(' ', info.ArgumentList)} did not print READY (got '{(line.IsCompleted ? line.Result : "nothing")}')");
        }
        return target;
    }

    /// <summary>Writes a line to a target that answers queries on stdin and returns its one-line answer.</summary>
    public string Ask(string question)
    {
        Process.StandardInput.WriteLine(question);
        Process.StandardInput.Flush();
        return Process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the target closed its output");
    }

    /// <summary>True when some thread of the target is in a stopped state (T or t): Snapper must never leave it so.</summary>
    public bool AnyThreadStopped() => Threads().Any(thread => thread.State is 'T' or 't');

    /// <summary>The target's threads as the kernel shows them now: id, name (comm) and state letter.</summary>
    public List<(int Tid, string Name, char State)> Threads()
    {
        var threads = new List<(int, string, char)>();
        foreach (var task in Directory.GetDirectories($"/proc/{Pid}/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var name = File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
                threads.Add((int.Parse(Path.GetFileName(task)), name, stat[stat.LastIndexOf(')') + 2]));
            }
            catch (IOException)
            {
                // the thread exited meanwhile
            }
        }
        return threads;
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
        Process.Dispose();
    }
}
