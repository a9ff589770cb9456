using System.Globalization;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Why the kernel refused Snapper a target, told from what it says of both (their /proc status, Yama's ptrace_scope),
/// so that the error names the privilege that is missing and how to give it: a user asks for root, a container for a
/// capability or a seccomp profile, a hardened host for a sysctl. The kernel's own answer (EPERM) names none of them.
/// </summary>
static class PtracePrivileges
{
    const int CapSysPtrace = 19; // linux/capability.h

    /// <summary>What the kernel says of a process: its effective user id, effective capabilities and seccomp mode.</summary>
    public readonly record struct ProcessCredentials(int EffectiveUid, ulong EffectiveCapabilities, int SeccompMode)
    {
        public bool CanTraceAnyone => (EffectiveCapabilities & (1UL << CapSysPtrace)) != 0;
    }

    /// <summary>Why process <paramref name="pid"/> cannot be traced by Snapper, and what would let it.</summary>
    public static string Explain(int pid, string name) =>
        Explain(pid, name, Read("self"), Read(pid.ToString(CultureInfo.InvariantCulture)), PtraceScope());

    /// <param name="target">Null when the target's status cannot be read (gone, or hidden).</param>
    /// <param name="ptraceScope">kernel.yama.ptrace_scope; null without Yama.</param>
    public static string Explain(int pid, string name, ProcessCredentials? self, ProcessCredentials? target, int? ptraceScope)
    {
        var denied = $"permission denied to trace process {pid} ({name}): ";
        if (ptraceScope == 3)
            return denied + "this machine forbids ptrace altogether (kernel.yama.ptrace_scope = 3, which only a reboot lowers)";
        if (self is not { } me)
            return denied + "ptrace needs root or CAP_SYS_PTRACE (e.g. 'sudo snapper ...')";
        if (!me.CanTraceAnyone)
        {
            if (me.EffectiveUid == 0)
                return denied + "Snapper runs as root but without the CAP_SYS_PTRACE capability (a container started without it, or " +
                    "capsh/setpriv dropped it): give it that capability (docker run --cap-add SYS_PTRACE; Kubernetes: " +
                    "securityContext.capabilities.add: [\"SYS_PTRACE\"])";
            if (target is { } other && other.EffectiveUid == me.EffectiveUid && ptraceScope is >= 1)
                return denied + $"kernel.yama.ptrace_scope = {ptraceScope} lets a user trace only its own child processes: run Snapper " +
                    "as root (sudo) or with CAP_SYS_PTRACE" + (ptraceScope == 1 ? ", or allow it with 'sysctl kernel.yama.ptrace_scope=0'" : "");
            return denied + "ptrace needs root or CAP_SYS_PTRACE (e.g. 'sudo snapper ...', or 'docker run --cap-add SYS_PTRACE')";
        }
        if (me.SeccompMode == 2)
            return denied + "Snapper has CAP_SYS_PTRACE but runs under a seccomp filter (Seccomp: 2 in /proc/self/status) that may " +
                "refuse ptrace: run it with a profile that allows ptrace (docker run --security-opt seccomp=unconfined; " +
                "Kubernetes: securityContext.seccompProfile.type: Unconfined)";
        return denied + "Snapper has CAP_SYS_PTRACE and no seccomp filter, so a security module (AppArmor, SELinux) or the target's " +
            "own settings refused it; check the kernel log (dmesg) for the denial";
    }

    static ProcessCredentials? Read(string process)
    {
        int? uid = null;
        ulong? capabilities = null;
        var seccomp = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{process}/status"))
            {
                var value = line[(line.IndexOf(':') + 1)..].Trim();
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                    uid = int.Parse(value.Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture); // real, effective, ...
                else if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                    capabilities = ulong.Parse(value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                else if (line.StartsWith("Seccomp:", StringComparison.Ordinal))
                    seccomp = int.Parse(value, CultureInfo.InvariantCulture);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
        return uid is { } u && capabilities is { } c ? new ProcessCredentials(u, c, seccomp) : null;
    }

    static int? PtraceScope()
    {
        try
        {
            return int.TryParse(File.ReadAllText("/proc/sys/kernel/yama/ptrace_scope").Trim(), CultureInfo.InvariantCulture, out var scope) ? scope : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // no Yama
        }
    }
}
