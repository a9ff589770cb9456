using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Snapper.Store;

/// <summary>Computes a session's totals from its stored snapshots, so the record matches what was kept, even after a crash.</summary>
static class SessionTotals
{
    public static void Record(SnapperDatabase db, long sessionId, SessionEndReason reason, string? message, DateTime endedUtc, int failedSnapshots,
        SqliteTransaction? transaction = null)
    {
        var pauses = new List<long>();
        long first = -1, last = -1;
        var late = 0;
        using (var read = db.Command("SELECT offset_us, pause_us, late FROM snapshots WHERE session_id = $s ORDER BY seq;"))
        {
            read.Transaction = transaction;
            read.Parameters.AddWithValue("$s", sessionId);
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                var offset = reader.GetInt64(0);
                if (first < 0) first = offset;
                last = offset;
                pauses.Add(reader.GetInt64(1));
                late += reader.GetInt32(2);
            }
        }
        long sampleCount;
        // Packed in the snapshots (schema 3), or rows of their own in sessions written before.
        using (var count = db.Command("""
            SELECT (SELECT coalesce(sum(sample_count), 0) FROM snapshots WHERE session_id = $s)
                 + (SELECT count(*) FROM samples WHERE session_id = $s);
            """))
        {
            count.Transaction = transaction;
            count.Parameters.AddWithValue("$s", sessionId);
            sampleCount = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        // Achieved rate over the span the snapshots cover: n snapshots make n-1 intervals.
        var achieved = pauses.Count > 1 && last > first ? (pauses.Count - 1) * 1_000_000.0 / (last - first) : 0;
        var pause = PauseStats.From(pauses);
        using var update = db.Command("""
            UPDATE sessions SET ended_utc = $ended, end_reason = $reason, end_message = $message, snapshot_count = $snapshots,
                late_count = $late, failed_count = $failed, sample_count = $samples, achieved_rate = $rate,
                pause_p50_us = $p50, pause_p99_us = $p99, pause_max_us = $max
            WHERE id = $s;
            """);
        update.Transaction = transaction;
        update.Parameters.AddWithValue("$ended", Timestamps.Format(endedUtc));
        update.Parameters.AddWithValue("$reason", reason.ToString());
        update.Parameters.AddWithValue("$message", (object?)message ?? DBNull.Value);
        update.Parameters.AddWithValue("$snapshots", pauses.Count);
        update.Parameters.AddWithValue("$late", late);
        update.Parameters.AddWithValue("$failed", failedSnapshots);
        update.Parameters.AddWithValue("$samples", sampleCount);
        update.Parameters.AddWithValue("$rate", achieved);
        update.Parameters.AddWithValue("$p50", pause.P50Us);
        update.Parameters.AddWithValue("$p99", pause.P99Us);
        update.Parameters.AddWithValue("$max", pause.MaxUs);
        update.Parameters.AddWithValue("$s", sessionId);
        SessionWriter.WithStoreErrors(update.ExecuteNonQuery);
    }
}
