using System.Globalization;

namespace Snapper.Store;

/// <summary>What a prune did, or would do with <c>dryRun</c>.</summary>
public sealed record PruneResult(IReadOnlyList<SessionInfo> Deleted, long SamplesDeleted, long BytesBefore, long BytesAfter, string? Note);

/// <summary>
/// Deletes whole sessions (oldest first) by age or to fit a size, then the stacks and frames no remaining session
/// uses, and reclaims the space. A capture running in another process must never lose what it writes: its session
/// is never deleted, and while any capture runs the shared stacks and frames are left alone (a capture may just have
/// interned one that no committed sample uses yet) and the file is not vacuumed (that would lock out its writes).
/// </summary>
public static class SessionPruner
{
    /// <param name="isActive">Whether a session is being captured right now (its writer is alive).</param>
    public static PruneResult Prune(SnapperDatabase db, DateTime? olderThanUtc, long? maxBytes, Func<SessionInfo, bool> isActive, bool dryRun)
    {
        // The size limit is met by estimate (space follows samples); a file with much fixed overhead may need another pass.
        var result = PruneOnce(db, olderThanUtc, maxBytes, isActive, dryRun);
        for (var pass = 0; pass < 3 && !dryRun && maxBytes is { } limit && result.BytesAfter > limit && result.Note is null; pass++)
        {
            var more = PruneOnce(db, null, limit, isActive, dryRun);
            if (more.Deleted.Count == 0) break;
            result = new PruneResult([.. result.Deleted, .. more.Deleted], result.SamplesDeleted + more.SamplesDeleted, result.BytesBefore, more.BytesAfter, null);
        }
        return result;
    }

    static PruneResult PruneOnce(SnapperDatabase db, DateTime? olderThanUtc, long? maxBytes, Func<SessionInfo, bool> isActive, bool dryRun)
    {
        var sessions = SessionQueries.List(db);
        var active = sessions.Where(isActive).Select(s => s.Id).ToHashSet();
        var before = SizeOf(db);
        var deleted = sessions.Where(s => !active.Contains(s.Id) && olderThanUtc is { } cutoff && s.StartedUtc < cutoff).ToList();
        if (maxBytes is { } limit)
        {
            // Space follows samples: estimate what is left after each deletion, oldest sessions first.
            var total = sessions.Sum(s => Math.Max(s.SampleCount, 1));
            var perSample = (double)before / Math.Max(total, 1);
            var left = total - deleted.Sum(s => Math.Max(s.SampleCount, 1));
            foreach (var session in sessions.Where(s => !active.Contains(s.Id) && !deleted.Contains(s)))
            {
                if (left * perSample <= limit) break;
                deleted.Add(session);
                left -= Math.Max(session.SampleCount, 1);
            }
        }
        var samples = deleted.Sum(s => s.SampleCount);
        if (dryRun || deleted.Count == 0) return new PruneResult(deleted, samples, before, before, null);

        SessionWriter.WithStoreErrors(() =>
        {
            using var transaction = db.Connection.BeginTransaction();
            var ids = "(" + string.Join(',', deleted.Select(s => s.Id.ToString(CultureInfo.InvariantCulture))) + ")";
            foreach (var table in new[] { "samples", "snapshots", "threads", "session_stacks" })
                Execute(db, $"DELETE FROM {table} WHERE session_id IN {ids};", transaction);
            Execute(db, $"DELETE FROM sessions WHERE id IN {ids};", transaction);
            transaction.Commit();
            return 0;
        });
        string? note = null;
        if (active.Count == 0)
        {
            SessionWriter.WithStoreErrors(() => { DeleteUnusedStacks(db); return 0; });
            Execute(db, "PRAGMA wal_checkpoint(TRUNCATE);");
            Execute(db, "VACUUM;");
            Execute(db, "PRAGMA wal_checkpoint(TRUNCATE);"); // VACUUM wrote the new file through the log

        }
        else
        {
            note = "a capture is running, so unused stacks were kept and the file was not compacted; the freed space is reused by later captures";
        }
        return new PruneResult(deleted, samples, before, SizeOf(db), note);
    }

    /// <summary>Stacks no remaining session reaches (walking up from every leaf a session uses), and frames no stack uses.</summary>
    static void DeleteUnusedStacks(SnapperDatabase db)
    {
        using var transaction = db.Connection.BeginTransaction();
        Execute(db, """
            CREATE TEMP TABLE used_stacks AS
            WITH RECURSIVE used(id) AS (
                SELECT stack_id FROM session_stacks
                UNION
                SELECT DISTINCT stack_id FROM samples WHERE stack_id <> 0
                UNION
                SELECT stacks.parent FROM stacks JOIN used ON stacks.id = used.id WHERE stacks.parent <> 0)
            SELECT id FROM used;
            """, transaction);
        Execute(db, "DELETE FROM stacks WHERE id NOT IN (SELECT id FROM temp.used_stacks);", transaction);
        Execute(db, "DELETE FROM frames WHERE id NOT IN (SELECT frame FROM stacks);", transaction);
        Execute(db, "DROP TABLE temp.used_stacks;", transaction);
        transaction.Commit();
    }

    /// <summary>The file's size as SQLite counts it (pages), the write-ahead log included.</summary>
    public static long SizeOf(SnapperDatabase db)
    {
        using var pages = db.Command("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size();");
        var size = Convert.ToInt64(pages.ExecuteScalar(), CultureInfo.InvariantCulture);
        var wal = db.Path + "-wal";
        return size + (File.Exists(wal) ? new FileInfo(wal).Length : 0);
    }

    static void Execute(SnapperDatabase db, string sql, Microsoft.Data.Sqlite.SqliteTransaction? transaction = null)
    {
        using var command = db.Command(sql);
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }
}
