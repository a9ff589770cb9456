using Microsoft.Win32.SafeHandles;

namespace Snapper.Store;

/// <summary>
/// The file beside a store (<c>&lt;db&gt;-snapper.lock</c>) whose byte locks say which captures are writing it. Beside
/// the store, not in TMPDIR: every process that can open the store finds it, whatever its TMPDIR (systemd's PrivateTmp,
/// another user's), PID namespace or user. Byte <see cref="WritersByte"/> is held shared by every live writer, and
/// byte n exclusively by the writer of session n (see <see cref="SessionLease"/>, <see cref="LiveWriters"/>). The
/// file is never deleted (that would race with the next taker); it holds no data.
/// </summary>
static class StoreLockFile
{
    /// <summary>Shared by every writer for its whole life; taken exclusively by a compaction (see <see cref="LiveWriters.TryExclude"/>).</summary>
    public const long WritersByte = 0;

    public static string PathFor(string dbPath)
    {
        // Beside the file itself when the store is reached through a symbolic link, as SQLite puts its -wal file.
        var real = new FileInfo(dbPath).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(dbPath);
        return real + "-snapper.lock";
    }

    /// <summary>Opens (creating it if needed) the lock file to take locks in it.</summary>
    /// <exception cref="StoreException">It cannot be created or opened for writing.</exception>
    public static FileStream OpenForLocking(string dbPath)
    {
        var path = PathFor(dbPath);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite | FileShare.Delete };
        try
        {
            if (OperatingSystem.IsWindows()) return new FileStream(path, options); // no OFD locks there: FileRangeLock fails, clearly
            // Those who may write the store may lock beside it: the lock file gets the store's permissions, as SQLite's -wal does.
            var mode = File.GetUnixFileMode(dbPath) & (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead
                | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
            options.UnixCreateMode = mode;
            var file = new FileStream(path, options);
            TrySetMode(file.SafeFileHandle, mode);
            return file;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"cannot open the store's lock file '{path}' for writing: {e.Message}", e);
        }
    }

    /// <summary>Opens the lock file only to test its locks (read access is enough); null when there is none: no capture ever wrote the store under it.</summary>
    /// <exception cref="IOException">It exists but cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">It exists but cannot be read.</exception>
    public static FileStream? OpenForTesting(string dbPath)
    {
        try
        {
            return new FileStream(PathFor(dbPath), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The umask narrowed the mode given at creation; only the owner can widen it, and only needs to once.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    static void TrySetMode(SafeFileHandle file, UnixFileMode mode)
    {
        try
        {
            if (File.GetUnixFileMode(file) != mode) File.SetUnixFileMode(file, mode);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another user's file: it keeps the mode its creator gave it.
        }
    }
}
