using System.Globalization;

namespace Snapper.Store;

/// <summary>Closes a session whose capture ended without recording it (Snapper was killed, or the machine went down).</summary>
public static class SessionRecovery
{
    public const string AbandonedMessage = "Snapper stopped without recording an end (killed, or the machine went down)";

    /// <summary>
    /// Records the session as abandoned, with totals computed from what was committed, ending at its last stored
    /// snapshot. Only call when no capture can still be writing it.
    /// </summary>
    public static void MarkAbandoned(SnapperDatabase db, SessionInfo session)
    {
        long lastOffsetUs;
        using (var command = db.Command("SELECT coalesce(max(offset_us), 0) FROM snapshots WHERE session_id = $s;"))
        {
            command.Parameters.AddWithValue("$s", session.Id);
            lastOffsetUs = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        SessionTotals.Record(db, session.Id, SessionEndReason.Abandoned, AbandonedMessage,
            session.StartedUtc.AddTicks(lastOffsetUs * 10), failedSnapshots: 0);
    }
}
