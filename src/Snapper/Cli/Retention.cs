using System.Globalization;
using Snapper.Store;

namespace Snapper.Cli;

/// <summary>Prunes a store, never touching a session whose capture is still running (see SessionPruner), after closing the abandoned ones.</summary>
public static class Retention
{
    public static PruneResult Prune(SnapperDatabase db, TimeSpan? olderThan, long? maxBytes, bool dryRun)
    {
        AbandonedSessions.Close(db);
        return SessionPruner.Prune(db, olderThan is { } age ? DateTime.UtcNow - age : null, maxBytes, dryRun);
    }

    public static string Describe(PruneResult result, bool dryRun)
    {
        var sessions = result.Deleted.Count == 1 ? "1 session" : $"{result.Deleted.Count} sessions";
        if (result.Deleted.Count == 0) return "Nothing to prune.";
        var ids = string.Join(", ", result.Deleted.Select(s => s.Id.ToString(CultureInfo.InvariantCulture)));
        var text = dryRun
            ? $"Would delete {sessions} ({ids}; {result.SamplesDeleted.ToString("N0", CultureInfo.InvariantCulture)} samples); the database is {SizeParser.Format(result.BytesBefore)}."
            : $"Deleted {sessions} ({ids}; {result.SamplesDeleted.ToString("N0", CultureInfo.InvariantCulture)} samples); database {SizeParser.Format(result.BytesBefore)} -> {SizeParser.Format(result.BytesAfter)}.";
        return result.Note is { } note ? $"{text} Note: {note}." : text;
    }
}
