using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Snapper.Store;

/// <summary>Closes a session whose capture ended without recording it (Snapper was killed, or the machine went down).</summary>
public static class SessionRecovery
{
    public const string AbandonedMessage = "Snapper stopped without recording an end (killed, or the machine went down)";

    /// <summary>
    /// Records as abandoned every session still marked running whose writer holds its lease no more (see
    /// <see cref="SessionLease"/>); one whose lease cannot be tested is left as it is. Returns how many it closed.
    /// </summary>
    public static int CloseAbandoned(SnapperDatabase db)
    {
        using var writers = LiveWriters.Probe(db.Path);
        // Looked at first without the write lock: a store with nothing to close is not locked for it.
        if (!SessionQueries.List(db).Any(s => IsAbandoned(s, writers))) return 0;
        return SessionWriter.WithStoreErrors(() =>
        {
            // Again under the write lock: no writer can record its end between the look and the mark, so a capture
            // that ended just now keeps its own end instead of being called abandoned.
            using var transaction = db.Connection.BeginTransaction(deferred: false);
            var abandoned = SessionQueries.List(db, transaction).Where(s => IsAbandoned(s, writers)).ToList();
            foreach (var session in abandoned) MarkAbandoned(db, session, transaction);
            transaction.Commit();
            return abandoned.Count;
        });
    }

    static bool IsAbandoned(SessionInfo session, LiveWriters writers) =>
        session.EndReason == SessionEndReason.Running && writers.IsWriting(session.Id) == false;

    /// <summary>
    /// Records the session as abandoned, with totals computed from what was committed, ending at its last stored
    /// snapshot. Only call when no capture can still be writing it.
    /// </summary>
    static void MarkAbandoned(SnapperDatabase db, SessionInfo session, SqliteTransaction transaction)
    {
        long lastOffsetUs;
        using (var command = db.Command("SELECT coalesce(max(offset_us), 0) FROM snapshots WHERE session_id = $s;"))
        {
            command.Transaction = transaction;
            command.Parameters.AddWithValue("$s", session.Id);
            lastOffsetUs = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        SessionTotals.Record(db, session.Id, SessionEndReason.Abandoned, AbandonedMessage,
            session.StartedUtc.AddTicks(lastOffsetUs * 10), failedSnapshots: 0, transaction);
    }
}
