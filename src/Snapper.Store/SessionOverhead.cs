using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Snapper.Store;

/// <summary>Stores and reads a session's <see cref="OverheadRecord"/> (schema 7: sessions' max_overhead, pause_share,
/// cpu_share, and the table session_rate_changes).</summary>
static class SessionOverhead
{
    /// <summary>Columns of the session query: budget, shares, and the changes as a JSON array of [offset, weight, pause, cpu].</summary>
    public const string SelectPerSession = """
        max_overhead, pause_share, cpu_share,
        (SELECT json_group_array(json_array(offset_us, weight, pause_share, cpu_share))
         FROM (SELECT offset_us, weight, pause_share, cpu_share FROM session_rate_changes WHERE session_id = sessions.id ORDER BY offset_us))
        """;

    public static void RecordChange(SnapperDatabase db, long sessionId, RateChange change, SqliteTransaction transaction)
    {
        using var insert = db.Command("""
            INSERT OR REPLACE INTO session_rate_changes(session_id, offset_us, weight, pause_share, cpu_share)
            VALUES($s, $offset, $weight, $pause, $cpu);
            """);
        insert.Transaction = transaction;
        insert.Parameters.AddWithValue("$s", sessionId);
        insert.Parameters.AddWithValue("$offset", change.OffsetUs);
        insert.Parameters.AddWithValue("$weight", change.Weight);
        insert.Parameters.AddWithValue("$pause", change.PauseShare);
        insert.Parameters.AddWithValue("$cpu", change.CpuShare);
        insert.ExecuteNonQuery();
    }

    public static void RecordBudget(SnapperDatabase db, long sessionId, double? budget, SqliteTransaction? transaction)
    {
        using var update = db.Command("UPDATE sessions SET max_overhead = $budget WHERE id = $s;");
        update.Transaction = transaction;
        update.Parameters.AddWithValue("$budget", (object?)budget ?? DBNull.Value);
        update.Parameters.AddWithValue("$s", sessionId);
        update.ExecuteNonQuery();
    }

    public static void RecordShares(SnapperDatabase db, long sessionId, double pauseShare, double cpuShare, SqliteTransaction transaction)
    {
        using var update = db.Command("UPDATE sessions SET pause_share = $pause, cpu_share = $cpu WHERE id = $s;");
        update.Transaction = transaction;
        update.Parameters.AddWithValue("$pause", pauseShare);
        update.Parameters.AddWithValue("$cpu", cpuShare);
        update.Parameters.AddWithValue("$s", sessionId);
        update.ExecuteNonQuery();
    }

    /// <summary>The record from the session query's columns starting at <paramref name="first"/>; null when nothing was
    /// measured (a session written before schema 7, or one that never ended properly).</summary>
    public static OverheadRecord? Read(SqliteDataReader r, int first)
    {
        if (r.IsDBNull(first + 1) || r.IsDBNull(first + 2)) return null;
        double? budget = r.IsDBNull(first) ? null : r.GetDouble(first);
        return new OverheadRecord(budget, r.GetDouble(first + 1), r.GetDouble(first + 2), ParseChanges(r.GetString(first + 3)));
    }

    static List<RateChange> ParseChanges(string json)
    {
        if (json == "[]") return [];
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.EnumerateArray()
                .Select(c => new RateChange(c[0].GetInt64(), c[1].GetInt32(), c[2].GetDouble(), c[3].GetDouble()))
                .ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new StoreException(string.Create(CultureInfo.InvariantCulture, $"cannot read database: a session's rate changes are damaged ({e.Message})"), e);
        }
    }
}
