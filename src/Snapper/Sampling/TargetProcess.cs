using Snapper.Sampling.Linux;

namespace Snapper.Sampling;

/// <summary>What Snapper checks and reads about a target before it touches it with ptrace.</summary>
/// <param name="RuntimeLibrary">The path of the runtime's libcoreclr.so, as the target sees it.</param>
public sealed record TargetProcess(int Pid, string Name, string CommandLine, string RuntimeLibrary, bool OwnMountNamespace)
{
    /// <summary>
    /// Where Snapper can open a file the target names (in /proc/PID/maps, or a module path the runtime reports). A target
    /// in another mount namespace (a container, seen from the host) has its own files: they are reached through
    /// /proc/PID/root, never at the same path on Snapper's side, which may be missing or a different version.
    /// </summary>
    public string HostPathOf(string pathInTarget) => HostPathOf(Pid, OwnMountNamespace, pathInTarget);

    /// <summary><see cref="HostPathOf(string)"/> for a process not inspected (yet).</summary>
    public static string HostPathOf(int pid, bool ownMountNamespace, string pathInTarget) =>
        ownMountNamespace && pathInTarget.StartsWith('/') ? $"/proc/{pid}/root{pathInTarget}" : pathInTarget;

    /// <summary>Checks that <paramref name="pid"/> names a live .NET process that Snapper may trace, or throws a <see cref="TargetRefusedException"/>.</summary>
    public static TargetProcess Inspect(int pid)
    {
        if (pid <= 0)
            throw new TargetRefusedException(TargetProblem.BadRequest, $"--pid must be a positive process id, not {pid}");
        if (pid == Environment.ProcessId)
            throw new TargetRefusedException(TargetProblem.BadRequest, "Snapper cannot sample its own process");
        if (!ProcFs.ProcessExists(pid))
            throw new TargetRefusedException(TargetProblem.NoSuchProcess, $"no process with pid {pid}");
        var name = ProcessName(pid);
        if (ProcFs.ReadThreadState(pid, pid) == 'Z')
            throw new TargetRefusedException(TargetProblem.NoSuchProcess, $"process {pid} ({name}) has exited (it is a zombie)");

        List<(ulong Start, ulong Offset, string Path)> mappings;
        try
        {
            mappings = ProcFs.ReadFileMappings(pid);
        }
        catch (UnauthorizedAccessException)
        {
            throw PermissionDenied(pid, name);
        }
        catch (IOException)
        {
            throw new TargetRefusedException(TargetProblem.NoSuchProcess, $"process {pid} ({name}) exited");
        }
        if (mappings.Count == 0 && ProcFs.ListThreads(pid).Length > 0)
            throw new TargetRefusedException(TargetProblem.NotDotNet, $"process {pid} ({name}) is a kernel thread, not a .NET process");

        var coreclr = mappings.FirstOrDefault(m => Path.GetFileName(m.Path) == "libcoreclr.so").Path;
        if (coreclr is null && EmbeddedRuntime.Describe(pid) is { } kind)
            throw new TargetRefusedException(TargetProblem.NotDotNet,
                $"process {pid} ({name}) is {kind}: its runtime is linked into the executable, without the libcoreclr.so and " +
                "DAC Snapper reads it through; publish it framework-dependent (or without PublishSingleFile) to profile it");
        if (coreclr is null)
            throw new TargetRefusedException(TargetProblem.NotDotNet,
                $"process {pid} ({name}) is not a .NET process Snapper can read: no libcoreclr.so is loaded");

        return new TargetProcess(pid, name, ProcFs.ReadCommandLine(pid), coreclr, ProcFs.HasOwnMountNamespace(pid));
    }

    /// <summary>The pid a process has in its own PID namespace when that namespace is below Snapper's; else null.</summary>
    public static int? PidInOwnNamespace(int pid)
    {
        var theirs = ProcFs.NamespacePids(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var mine = ProcFs.NamespacePids("self");
        return theirs.Length == 0 || mine.Length == 0 || theirs.Length <= mine.Length ? null : theirs[^1];
    }

    /// <summary>
    /// Fails when a debugger or another tracer holds the target. Called once Snapper holds its own per-target lock,
    /// so that another Snapper, caught mid-sample, is reported as such rather than as a foreign tracer.
    /// </summary>
    public void EnsureNotTraced()
    {
        var tracer = ProcFs.ReadTracerPid(Pid);
        if (tracer != 0)
            throw new TargetRefusedException(TargetProblem.AlreadyTraced,
                $"process {Pid} ({Name}) is already traced by pid {tracer} ({ProcFs.ReadComm(tracer) ?? "?"}); only one tracer can attach at a time");
    }

    /// <summary>The version of the runtime the target runs ("8.0.31"), read from its libcoreclr.so; null when unreadable.</summary>
    public string? ReadRuntimeVersion() => RuntimeVersion.Of(HostPathOf(RuntimeLibrary));

    /// <summary>The kernel refused the target: the error names the privilege Snapper lacks and how to give it.</summary>
    public static TargetRefusedException PermissionDenied(int pid, string name) =>
        new(TargetProblem.PermissionDenied, PtracePrivileges.Explain(pid, name));

    /// <summary>
    /// For <c>dotnet app.dll</c> the process is "dotnet": name it for the app instead. The OS name holds 15 characters:
    /// an executable's longer name comes from its path.
    /// </summary>
    public static string ProcessName(int pid)
    {
        var comm = ProcFs.ReadComm(pid) ?? $"pid{pid}";
        var args = ProcFs.ReadArguments(pid);
        var exe = args.Length > 0 ? Path.GetFileName(args[0]) : "";
        if (comm.Length == 15 && exe.Length > 15 && exe.StartsWith(comm, StringComparison.Ordinal)) comm = exe;
        if (args.Length > 1 && Path.GetFileName(args[0]) == "dotnet")
        {
            var app = args.Skip(1).FirstOrDefault(a => a.EndsWith(".dll", StringComparison.OrdinalIgnoreCase));
            if (app is not null) return Path.GetFileNameWithoutExtension(app);
        }
        return comm;
    }
}
