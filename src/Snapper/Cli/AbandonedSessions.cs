using Snapper.Store;

namespace Snapper.Cli;

/// <summary>
/// Finds sessions still recorded as running that no capture is writing, and closes them as abandoned. A capture
/// holds its session's lock beside the store for its whole life and the kernel drops the lock when the capture dies,
/// however it dies: a running session whose lock is free has lost its writer (see SessionRecovery.CloseAbandoned).
/// </summary>
public static class AbandonedSessions
{
    /// <summary>Opens a store that must exist, for the commands that read it, with its dead captures closed first
    /// (unless the store is read-only: then they show as still running).</summary>
    public static SnapperDatabase OpenExisting(string path)
    {
        var db = SnapperDatabase.OpenForReading(path);
        try
        {
            if (!db.IsReadOnly) Close(db);
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    public static void Close(SnapperDatabase db) => SessionRecovery.CloseAbandoned(db);
}
