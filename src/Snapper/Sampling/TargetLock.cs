using Snapper.Cli;

namespace Snapper.Sampling;

/// <summary>
/// Makes sure only one Snapper samples a process at a time. The fast engine holds the target only during a
/// sample, so a second Snapper would not see it as a tracer and the two would take turns stopping the target.
/// An exclusive lock on a per-pid file (.NET takes it with flock for FileShare.None) is released by the kernel
/// when Snapper exits, however it exits. The files stay: deleting a lock file races with the next taker.
/// </summary>
public sealed class TargetLock : IDisposable
{
    readonly FileStream _file;

    TargetLock(FileStream file) => _file = file;

    public static TargetLock Acquire(TargetProcess target)
    {
        try
        {
            return TryAcquire(target.Pid)
                ?? throw new SnapperException(ExitCode.AlreadyTraced,
                    $"another Snapper is already sampling process {target.Pid} ({target.Name}); only one can at a time");
        }
        catch (UnauthorizedAccessException)
        {
            throw new SnapperException(ExitCode.PermissionDenied, $"cannot create the lock file '{PathFor(target.Pid)}'");
        }
    }

    /// <summary>The lock, or null when another Snapper holds it.</summary>
    /// <exception cref="UnauthorizedAccessException">The lock file cannot be created.</exception>
    public static TargetLock? TryAcquire(int pid)
    {
        try
        {
            return new TargetLock(new FileStream(PathFor(pid), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Whether another Snapper is sampling <paramref name="pid"/> now. Creates no lock file.</summary>
    public static bool IsHeld(int pid)
    {
        if (!File.Exists(PathFor(pid))) return false;
        try
        {
            using var probe = TryAcquire(pid);
            return probe is null;
        }
        catch (UnauthorizedAccessException)
        {
            return false; // another user's lock file: nothing to tell from it
        }
    }

    static string PathFor(int pid) => Path.Combine(Path.GetTempPath(), $"snapper-{pid}.lock");

    public void Dispose() => _file.Dispose();
}
