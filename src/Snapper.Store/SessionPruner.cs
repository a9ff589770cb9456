using System.Globalization;

namespace Snapper.Store;

/// <summary>What a prune did, or would do with <c>dryRun</c>.</summary>
public sealed record PruneResult(IReadOnlyList<SessionInfo> Deleted, long SamplesDeleted, long BytesBefore, long BytesAfter, string? Note);

/// <summary>
/// Deletes whole sessions (oldest first) by age or to fit a size, then the stacks and frames no remaining session
/// uses, and reclaims the space. A capture running in another process must never lose what it writes, whatever that
/// process's TMPDIR, user or PID namespace: which sessions are live is read from the locks their writers hold beside
/// the store (see <see cref="LiveWriters"/>). A live session is never deleted (nor one whose liveness cannot be told),
/// and while any capture runs the shared stacks and frames are left alone (a writer keeps the ids of the stacks it
/// interned, and may use one again that no committed sample of its own uses) and the file is not vacuumed (that would
/// lock out its writes for as long as it takes). The compaction keeps new captures waiting until it is done.
/// </summary>
public static class SessionPruner
{
    public static PruneResult Prune(SnapperDatabase db, DateTime? olderThanUtc, long? maxBytes, bool dryRun)
    {
        // The size limit is met by estimate (space follows samples); a file with much fixed overhead may need another pass.
        var result = PruneOnce(db, olderThanUtc, maxBytes, dryRun);
        for (var pass = 0; pass < 3 && !dryRun && maxBytes is { } limit && result.BytesAfter > limit && result.Note is null; pass++)
        {
            var more = PruneOnce(db, null, limit, dryRun);
            if (more.Deleted.Count == 0) break;
            result = new PruneResult([.. result.Deleted, .. more.Deleted], result.SamplesDeleted + more.SamplesDeleted, result.BytesBefore, more.BytesAfter, null);
        }
        return result;
    }

    static PruneResult PruneOnce(SnapperDatabase db, DateTime? olderThanUtc, long? maxBytes, bool dryRun)
    {
        var before = SizeOf(db);
        using var writers = LiveWriters.Probe(db.Path);
        var deleted = SessionWriter.WithStoreErrors(() =>
        {
            // Chosen and deleted under the write lock: no session starts or ends between the choice and the deletion.
            using var transaction = db.Connection.BeginTransaction(deferred: dryRun);
            var sessions = SessionQueries.List(db, transaction);
            var live = sessions.Where(s => s.EndReason == SessionEndReason.Running && writers.IsWriting(s.Id) != false).Select(s => s.Id).ToHashSet();
            var chosen = Choose(sessions.Where(s => !live.Contains(s.Id)).ToList(), sessions, olderThanUtc, maxBytes, before);
            if (!dryRun && chosen.Count > 0) Delete(db, chosen, transaction);
            transaction.Commit();
            return chosen;
        });
        var samples = deleted.Sum(s => s.SampleCount);
        if (dryRun || deleted.Count == 0) return new PruneResult(deleted, samples, before, before, null);

        string? note = null;
        using (var excluded = LiveWriters.TryExclude(db.Path, out var why))
        {
            if (excluded is not null)
            {
                SessionWriter.WithStoreErrors(() => { DeleteUnusedStacks(db); return 0; });
                Execute(db, "PRAGMA wal_checkpoint(TRUNCATE);");
                Execute(db, "VACUUM;");
                Execute(db, "PRAGMA wal_checkpoint(TRUNCATE);"); // VACUUM wrote the new file through the log
            }
            else
            {
                note = $"{why}, so unused stacks were kept and the file was not compacted; the freed space is reused by later captures";
            }
        }
        return new PruneResult(deleted, samples, before, SizeOf(db), note);
    }

    /// <summary>Which of the <paramref name="deletable"/> sessions go: those older than the cutoff, then the oldest until the rest fits.</summary>
    static List<SessionInfo> Choose(List<SessionInfo> deletable, IReadOnlyList<SessionInfo> all, DateTime? olderThanUtc, long? maxBytes, long bytes)
    {
        var chosen = deletable.Where(s => olderThanUtc is { } cutoff && s.StartedUtc < cutoff).ToList();
        if (maxBytes is { } limit)
        {
            // Space follows samples: estimate what is left after each deletion, oldest sessions first.
            var total = all.Sum(s => Math.Max(s.SampleCount, 1));
            var perSample = (double)bytes / Math.Max(total, 1);
            var left = total - chosen.Sum(s => Math.Max(s.SampleCount, 1));
            foreach (var session in deletable.Where(s => !chosen.Contains(s)))
            {
                if (left * perSample <= limit) break;
                chosen.Add(session);
                left -= Math.Max(session.SampleCount, 1);
            }
        }
        return chosen;
    }

    static void Delete(SnapperDatabase db, List<SessionInfo> sessions, Microsoft.Data.Sqlite.SqliteTransaction transaction)
    {
        var ids = "(" + string.Join(',', sessions.Select(s => s.Id.ToString(CultureInfo.InvariantCulture))) + ")";
        foreach (var table in new[] { "samples", "snapshots", "threads", "session_stacks", "session_errors", "session_rate_changes", "session_locks", "lock_waits" })
            Execute(db, $"DELETE FROM {table} WHERE session_id IN {ids};", transaction);
        Execute(db, $"DELETE FROM sessions WHERE id IN {ids};", transaction);
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
