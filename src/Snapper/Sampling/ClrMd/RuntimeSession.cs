using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>Creates the ClrRuntime for a data target and turns ClrMD's failures into messages a user can act on.</summary>
static class RuntimeSession
{
    public static DataTargetOptions Options() => new()
    {
        // The target changes between samples: a cached stack trace would be stale by the next one.
        CacheOptions = { CacheStackTraces = false },
    };

    static string? LocalDac(ClrInfo clr)
    {
        var directory = Path.GetDirectoryName(clr.ModuleInfo.FileName);
        var dac = string.IsNullOrEmpty(directory) ? null : Path.Combine(directory, "libmscordaccore.so");
        return dac is not null && File.Exists(dac) ? dac : null;
    }

    public static ClrRuntime Create(DataTarget target, TargetProcess process, out string version)
    {
        if (target.ClrVersions.Length == 0)
            throw new TargetRefusedException(TargetProblem.NotDotNet,
                $"process {process.Pid} ({process.Name}) has no CLR runtime ClrMD can read");
        var clr = target.ClrVersions[0];
        // ClrMD's version was 0.0 for every live target tried (.NET 8, 9, 10): the runtime's own binary says it right.
        version = process.ReadRuntimeVersion() ?? (clr.Version.Major > 0 ? clr.Version.ToString() : "unknown");
        try
        {
            // The DAC beside the runtime's own libcoreclr.so (the same build): ClrMD 4.2 no longer finds it there by
            // itself on Linux (it checks the runtime file as a PE image) and needs a symbol server it may not use here.
            // Its version check is skipped: ClrMD reads the runtime as 0.0 (above), and this DAC is the build beside it.
            return LocalDac(clr) is { } dac ? clr.CreateRuntime(dac, ignoreMismatch: true) : clr.CreateRuntime();
        }
        catch (Exception e) when (e is ClrDiagnosticsException or FileNotFoundException or InvalidOperationException or DllNotFoundException)
        {
            throw new TargetRefusedException(TargetProblem.NotDotNet,
                $"cannot read the .NET {version} runtime of process {process.Pid} ({process.Name}): {e.Message}", e);
        }
    }
}
