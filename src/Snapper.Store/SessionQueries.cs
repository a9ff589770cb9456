using Microsoft.Data.Sqlite;

namespace Snapper.Store;

/// <summary>Reads the session list and resolves the session a user names.</summary>
public static class SessionQueries
{
    const string SelectSessions = $"""
        SELECT id, pid, process_name, command_line, runtime_version, host, engine, requested_rate, max_frames, snapper_command_line,
               started_utc, ended_utc, end_reason, end_message, snapshot_count, late_count, failed_count, sample_count,
               achieved_rate, pause_p50_us, pause_p99_us, pause_max_us, architecture, focus, focus_seen, focus_kept,
               {SessionErrors.SelectPerSession}, run_state, {SessionOverhead.SelectPerSession}
        FROM sessions
        """;

    public static IReadOnlyList<SessionInfo> List(SnapperDatabase db) => List(db, null);

    /// <summary>The sessions as seen inside <paramref name="transaction"/> (one that holds the write lock sees them settled).</summary>
    internal static IReadOnlyList<SessionInfo> List(SnapperDatabase db, SqliteTransaction? transaction)
    {
        using var command = db.Command(SelectSessions + " ORDER BY id;");
        command.Transaction = transaction;
        return ReadAll(command);
    }

    /// <summary>The session with this id, or the newest one for <c>null</c>; null when there is none.</summary>
    public static SessionInfo? Find(SnapperDatabase db, long? id)
    {
        using var command = db.Command(SelectSessions + (id is null ? " ORDER BY id DESC LIMIT 1;" : " WHERE id = $id;"));
        if (id is not null) command.Parameters.AddWithValue("$id", id.Value);
        return ReadAll(command).FirstOrDefault();
    }

    static List<SessionInfo> ReadAll(SqliteCommand command)
    {
        var sessions = new List<SessionInfo>();
        try
        {
            using var r = command.ExecuteReader();
            while (r.Read())
            {
                var target = new SessionTarget(r.GetInt32(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
                    r.GetString(6), r.GetDouble(7), r.GetInt32(8), r.GetString(9), r.GetString(22)) { KnowsRunState = r.GetInt64(27) != 0 };
                sessions.Add(new SessionInfo(
                    r.GetInt64(0), target,
                    Timestamps.Parse(r.GetString(10)),
                    r.IsDBNull(11) ? null : Timestamps.Parse(r.GetString(11)),
                    Enum.TryParse<SessionEndReason>(r.GetString(12), out var reason) ? reason : SessionEndReason.Failed,
                    r.IsDBNull(13) ? null : r.GetString(13),
                    r.GetInt32(14), r.GetInt32(15), r.GetInt32(16), r.GetInt64(17), r.GetDouble(18),
                    new PauseStats(r.GetInt64(19), r.GetInt64(20), r.GetInt64(21)),
                    r.IsDBNull(23) ? null : new FocusCounts(r.GetString(23), r.GetInt64(24), r.GetInt64(25)))
                {
                    InternalErrors = SessionErrors.Parse(r.GetString(26)),
                    Overhead = SessionOverhead.Read(r, 28),
                });
            }
        }
        catch (SqliteException e)
        {
            throw new StoreException($"cannot read database: {SnapperDatabase.Describe(e)}", e);
        }
        return sessions;
    }
}
