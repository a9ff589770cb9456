using Snapper.Sampling.Linux;

namespace Snapper.Sampling;

/// <summary>
/// A .NET process found on this machine. <see cref="Problem"/> says why Snapper cannot sample it now (traced by
/// something else, already being sampled, no permission), or is null when it can.
/// </summary>
public sealed record DotnetProcess(int Pid, string Name, string? RuntimeVersion, DateTime? StartedUtc, string CommandLine, bool InContainer, string? Problem);

/// <summary>Finds the .NET processes Snapper could sample: those with the CoreCLR runtime (libcoreclr.so) mapped.</summary>
public static class DotnetProcesses
{
    public static List<DotnetProcess> List()
    {
        var found = new List<DotnetProcess>();
        foreach (var pid in ProcFs.ListProcesses())
        {
            if (pid == Environment.ProcessId) continue;
            if (Describe(pid) is { } process) found.Add(process);
        }
        return found;
    }

    /// <summary>The processes whose name (see <see cref="TargetProcess"/>) or OS name is <paramref name="name"/>, ignoring case.</summary>
    public static List<DotnetProcess> Named(string name) =>
        List().Where(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)
                          || (ProcFs.ReadComm(p.Pid)?.Equals(name, StringComparison.OrdinalIgnoreCase) ?? false)).ToList();

    static DotnetProcess? Describe(int pid)
    {
        List<(ulong Start, ulong Offset, string Path)> mappings;
        try
        {
            mappings = ProcFs.ReadFileMappings(pid);
        }
        catch (UnauthorizedAccessException)
        {
            // Its memory map is closed to us: list it only if it looks like .NET from its command line.
            var args = ProcFs.ReadArguments(pid);
            if (args.Length == 0 || Path.GetFileName(args[0]) != "dotnet") return null;
            return new DotnetProcess(pid, TargetProcess.ProcessName(pid), null, ProcFs.ReadStartTimeUtc(pid), ProcFs.ReadCommandLine(pid), false,
                "permission denied (needs root or CAP_SYS_PTRACE)");
        }
        catch (IOException)
        {
            return null; // gone, or a kernel thread
        }
        var coreclr = mappings.FirstOrDefault(m => Path.GetFileName(m.Path) == "libcoreclr.so").Path;
        if (coreclr is null) return null;
        var inContainer = ProcFs.HasOwnMountNamespace(pid) || TargetProcess.PidInOwnNamespace(pid) is not null;
        var version = RuntimeVersion.Of(TargetProcess.HostPathOf(pid, inContainer, coreclr));
        return new DotnetProcess(pid, TargetProcess.ProcessName(pid), version, ProcFs.ReadStartTimeUtc(pid), ProcFs.ReadCommandLine(pid),
            inContainer, ProblemOf(pid));
    }

    static string? ProblemOf(int pid)
    {
        if (ProcFs.ReadThreadState(pid, pid) == 'Z') return "exited (zombie)";
        if (TargetLock.IsHeld(pid)) return "being sampled by another Snapper";
        var tracer = ProcFs.ReadTracerPid(pid);
        return tracer != 0 ? $"traced by pid {tracer} ({ProcFs.ReadComm(tracer) ?? "?"})" : null;
    }
}
