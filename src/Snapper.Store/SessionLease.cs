namespace Snapper.Store;

/// <summary>
/// A writer's hold on its session, in the store's lock file (see <see cref="StoreLockFile"/>): the byte of the
/// session id exclusively, and the writers' byte shared. Taken before the session row is committed and released after
/// its end is recorded, so whoever sees the session running while the lock is free knows its writer is gone. The
/// kernel releases both when the writer's process ends, however it ends.
/// </summary>
sealed class SessionLease : IDisposable
{
    /// <summary>How long a capture waits for a prune's compaction (VACUUM) to finish before it gives up.</summary>
    static readonly TimeSpan CompactionWait = TimeSpan.FromMinutes(5);

    readonly FileStream _file;

    SessionLease(FileStream file) => _file = file;

    /// <summary>Joins the live writers, first waiting while a prune compacts the store (it excludes writers).</summary>
    /// <exception cref="StoreException">The lock file cannot be used, or the compaction outlasted <see cref="CompactionWait"/>.</exception>
    public static SessionLease Enter(string dbPath)
    {
        var file = StoreLockFile.OpenForLocking(dbPath);
        try
        {
            var deadline = DateTime.UtcNow + CompactionWait;
            while (!FileRangeLock.TryLock(file.SafeFileHandle, StoreLockFile.WritersByte, exclusive: false))
            {
                if (DateTime.UtcNow > deadline)
                    throw new StoreException($"cannot write database '{dbPath}': a prune has been compacting it for {CompactionWait.TotalMinutes:0} minutes");
                Thread.Sleep(50);
            }
            return new SessionLease(file);
        }
        catch (IOException e)
        {
            file.Dispose();
            throw new StoreException($"cannot lock '{StoreLockFile.PathFor(dbPath)}': {e.Message}", e);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Marks session <paramref name="sessionId"/> as written by this process. Call before its row is committed.</summary>
    public void Claim(long sessionId)
    {
        bool taken;
        try
        {
            taken = FileRangeLock.TryLock(_file.SafeFileHandle, sessionId, exclusive: true);
        }
        catch (IOException e)
        {
            throw new StoreException($"cannot lock session {sessionId} in '{_file.Name}': {e.Message}", e);
        }
        // Ids are handed out under SQLite's write lock, and a live session is never deleted: only a bug gets here.
        if (!taken) throw new StoreException($"session {sessionId} is already locked by another writer in '{_file.Name}'");
    }

    public void Dispose() => _file.Dispose(); // closing the file drops its locks
}
