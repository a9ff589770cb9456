using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.Unit;

/// <summary>A session is live while its writer holds its lease beside the store, even a writer in this very process.</summary>
public sealed class LiveSessionTests
{
    static readonly SessionTarget Target = new(42, "app", "dotnet app.dll", "10.0.12", "host", "ptrace", 100, 256, "snapper sample --pid 42");

    [Fact]
    public void A_session_whose_writer_is_open_is_neither_abandoned_nor_pruned_and_blocks_compaction()
    {
        using var dir = new TempDirectory();
        using var db = SnapperDatabase.Open(dir.File("s.db"));
        using (var ended = SessionWriter.Begin(db, Target, DateTime.UtcNow.AddHours(-2)))
            ended.End(SessionEndReason.CountReached, null, DateTime.UtcNow.AddHours(-2), 0);
        using var live = SessionWriter.Begin(db, Target, DateTime.UtcNow.AddHours(-1));
        live.AddSnapshot(new Snapshot(0, 0, 1, false));
        live.Commit();

        Assert.Equal(0, SessionRecovery.CloseAbandoned(db));
        var pruned = SessionPruner.Prune(db, DateTime.UtcNow, null, dryRun: false);

        Assert.Equal([1L], pruned.Deleted.Select(s => s.Id));
        Assert.Contains("a capture is running", pruned.Note);
        Assert.Equal(SessionEndReason.Running, Assert.Single(SessionQueries.List(db)).EndReason);
    }

    [Fact]
    public void A_session_whose_writer_is_gone_is_closed_as_abandoned_and_the_store_compacted()
    {
        using var dir = new TempDirectory();
        using var db = SnapperDatabase.Open(dir.File("s.db"));
        using (var gone = SessionWriter.Begin(db, Target, DateTime.UtcNow.AddHours(-1)))
        {
            gone.AddSnapshot(new Snapshot(0, 0, 1, false));
            gone.Commit();
        } // disposed without an end, as a killed capture's lock is dropped

        Assert.Equal(1, SessionRecovery.CloseAbandoned(db));
        Assert.Equal(SessionEndReason.Abandoned, Assert.Single(SessionQueries.List(db)).EndReason);
        var pruned = SessionPruner.Prune(db, DateTime.UtcNow, null, dryRun: false);
        Assert.Single(pruned.Deleted);
        Assert.Null(pruned.Note);
    }
}
