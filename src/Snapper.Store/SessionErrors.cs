using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Snapper.Store;

/// <summary>Stores and reads a session's <see cref="InternalError"/>s (table session_errors, schema 5).</summary>
static class SessionErrors
{
    /// <summary>A column of the session query: the session's errors as a JSON array of [reason, count], most frequent first.</summary>
    public const string SelectPerSession = """
        (SELECT json_group_array(json_array(reason, count))
         FROM (SELECT reason, count FROM session_errors WHERE session_id = sessions.id ORDER BY count DESC, reason))
        """;

    public static void Record(SnapperDatabase db, long sessionId, IReadOnlyList<InternalError> errors, SqliteTransaction transaction)
    {
        foreach (var error in errors)
        {
            using var insert = db.Command("""
                INSERT INTO session_errors(session_id, reason, count) VALUES($s, $reason, $count)
                ON CONFLICT(session_id, reason) DO UPDATE SET count = excluded.count;
                """);
            insert.Transaction = transaction;
            insert.Parameters.AddWithValue("$s", sessionId);
            insert.Parameters.AddWithValue("$reason", error.Reason);
            insert.Parameters.AddWithValue("$count", error.Count);
            insert.ExecuteNonQuery();
        }
    }

    public static IReadOnlyList<InternalError> Parse(string json)
    {
        if (json == "[]") return [];
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.EnumerateArray()
                .Select(pair => new InternalError(pair[0].GetString() ?? "", pair[1].GetInt32()))
                .ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new StoreException(string.Create(CultureInfo.InvariantCulture, $"cannot read database: a session's errors are damaged ({e.Message})"), e);
        }
    }

    /// <summary>The errors of several sessions as one list: counts of the same reason added up, most frequent first.</summary>
    public static IReadOnlyList<InternalError> Merge(IEnumerable<SessionInfo> sessions) =>
        sessions.SelectMany(s => s.InternalErrors)
            .GroupBy(e => e.Reason, StringComparer.Ordinal)
            .Select(g => new InternalError(g.Key, g.Sum(e => e.Count)))
            .OrderByDescending(e => e.Count).ThenBy(e => e.Reason, StringComparer.Ordinal)
            .ToList();
}
