namespace Snapper.Store;

/// <summary>
/// Which sessions of a store a capture is writing right now, read from the locks their writers hold in the store's
/// lock file (see <see cref="SessionLease"/>). A lock is the truth a heartbeat cannot be: a writer stalled for minutes
/// (stopped, swapped out, waiting on a full disk) still holds it, and a killed one holds it no more.
/// </summary>
sealed class LiveWriters : IDisposable
{
    readonly FileStream? _file;
    readonly bool _cannotTell;

    LiveWriters(FileStream? file, bool cannotTell)
    {
        _file = file;
        _cannotTell = cannotTell;
    }

    public static LiveWriters Probe(string dbPath)
    {
        try
        {
            return new LiveWriters(StoreLockFile.OpenForTesting(dbPath), cannotTell: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new LiveWriters(null, cannotTell: true);
        }
    }

    /// <summary>Whether a live capture writes session <paramref name="sessionId"/>; null when that cannot be told (the lock file is unreadable).</summary>
    public bool? IsWriting(long sessionId)
    {
        if (_cannotTell) return null;
        if (_file is null) return false; // no writer ever made the lock file, so none is writing
        try
        {
            return FileRangeLock.IsLockedByOthers(_file.SafeFileHandle, sessionId);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Keeps every writer out (none is live, and a new one waits in <see cref="SessionLease.Enter"/>) until disposed:
    /// for what a live writer could not bear, deleting stacks whose ids it holds, or VACUUM. Null, with the reason in
    /// <paramref name="why"/>, when a capture is writing or the lock file cannot be locked.
    /// </summary>
    public static IDisposable? TryExclude(string dbPath, out string? why)
    {
        FileStream file;
        try
        {
            file = StoreLockFile.OpenForLocking(dbPath);
        }
        catch (StoreException e)
        {
            why = e.Message;
            return null;
        }
        try
        {
            if (FileRangeLock.TryLock(file.SafeFileHandle, StoreLockFile.WritersByte, exclusive: true))
            {
                why = null;
                return file; // closing it releases the lock
            }
            why = "a capture is running";
        }
        catch (IOException e)
        {
            why = $"cannot lock '{file.Name}': {e.Message}";
        }
        file.Dispose();
        return null;
    }

    public void Dispose() => _file?.Dispose();
}
