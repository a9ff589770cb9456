using Snapper.Sampling.Linux;

namespace Snapper.Sampling;

/// <summary>
/// Makes sure only one Snapper samples a process at a time. The kernel refuses a second tracer only while a thread is
/// seized, and Snapper seizes the target's threads only during a sample and lets them go after it: between samples a
/// second Snapper finds no tracer to be refused by, and the two would take turns stopping the target, doubling its
/// pauses, each reading the other's stops in its own samples. This lock refuses the second Snapper at its start.
/// <para>
/// An exclusive flock (.NET takes it for FileShare.None) on a file per target process, released by the kernel when
/// Snapper exits, however it exits. The file is in /dev/shm rather than in TMPDIR: a Snapper run by a systemd unit with
/// PrivateTmp, or by a user whose TMPDIR is their own, has a /tmp of its own and would never see a lock there, while
/// /dev/shm is the machine's. (A container with its own /dev/shm, like one with its own PID namespace, names the
/// target differently anyway: there only the kernel's refusal during a sample remains.) The file is named after the
/// pid and the process's start time, so a pid used again later names another file, and one left by another user for
/// an earlier process never stands in the way. The files stay: deleting a lock file races with the next taker.
/// </para>
/// </summary>
public sealed class TargetLock : IDisposable
{
    /// <summary>Shared by every user and every TMPDIR; the temporary directory is the fallback where there is none.</summary>
    static readonly string Directory = System.IO.Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    readonly FileStream _file;

    TargetLock(FileStream file) => _file = file;

    public static TargetLock Acquire(TargetProcess target)
    {
        try
        {
            return TryAcquire(target.Pid)
                ?? throw new TargetRefusedException(TargetProblem.AlreadyTraced,
                    $"another Snapper is already sampling process {target.Pid} ({target.Name}); only one can at a time");
        }
        catch (UnauthorizedAccessException)
        {
            throw new TargetRefusedException(TargetProblem.PermissionDenied, $"cannot create the lock file '{PathFor(target.Pid)}'");
        }
    }

    /// <summary>The lock, or null when another Snapper holds it.</summary>
    /// <exception cref="UnauthorizedAccessException">The lock file cannot be created or opened.</exception>
    public static TargetLock? TryAcquire(int pid)
    {
        var path = PathFor(pid);
        try
        {
            return new TargetLock(OpenLocked(path));
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Opens the file with the flock taken. Read access is enough for a flock, so another user's file serves too; and
    /// an existing file is opened without O_CREAT, which fs.protected_regular refuses for another user's file in a
    /// sticky directory like /dev/shm.
    /// </summary>
    /// <exception cref="IOException">Another Snapper holds the lock.</exception>
    static FileStream OpenLocked(string path)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
            }
            catch (FileNotFoundException)
            {
            }
            try
            {
                return new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None); // .NET creates only with write access
            }
            catch (IOException) when (File.Exists(path))
            {
                // Made by another Snapper just now: open it as it is.
            }
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
            return false; // a lock file that cannot even be read: nothing to tell from it
        }
    }

    static string PathFor(int pid) => Path.Combine(Directory, $"snapper-target-{pid}-{ProcFs.ReadStartTicks(pid) ?? 0}.lock");

    public void Dispose() => _file.Dispose();
}
