using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>Snapper's own errors during a capture are listed by `snapper sessions` and in the reports, never folded into "failed".</summary>
public sealed class SnapperErrorsListingTests
{
    [Fact]
    public void Sessions_and_the_text_report_name_each_error_with_its_count()
    {
        using var dir = new TempDirectory();
        var db = dir.File("s.db");
        using (var store = SnapperDatabase.Open(db))
        {
            var target = new SessionTarget(42, "app", "dotnet app.dll", "10.0.1", "host", "ptrace", 100, 256, "snapper sample --pid 42");
            using (var clean = SessionWriter.Begin(store, target, DateTime.UtcNow))
                clean.End(SessionEndReason.CountReached, null, DateTime.UtcNow, failedSnapshots: 0);
            using var buggy = SessionWriter.Begin(store, target, DateTime.UtcNow);
            buggy.AddSnapshot(new Snapshot(0, 0, 1, false));
            buggy.End(SessionEndReason.CountReached, null, DateTime.UtcNow, failedSnapshots: 2,
                [new InternalError("NullReferenceException in FrameResolver.Resolve: Object reference not set", 5)]);
        }

        var listing = SnapperCli.Run("sessions", "--db", db);

        Assert.True(listing.ExitCode == 0, listing.ToString());
        var lines = listing.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith("SNAPPER ERRORS", lines[0]);
        Assert.EndsWith("count reached", lines[1].TrimEnd()); // nothing for the clean capture
        Assert.EndsWith("  5", lines[2]);
        Assert.Equal("Session 2: Snapper error x5: NullReferenceException in FrameResolver.Resolve: Object reference not set (a bug: please report it)", lines[3]);
        var report = SnapperCli.Run("report", "--db", db, "--session", "2", "--format", "text");
        Assert.True(report.ExitCode == 0, report.ToString());
        Assert.Contains("(0 late, 2 failed)", report.Stdout);
        Assert.Contains("errors       : 5 snapshots lost to Snapper errors (a bug: please report it): 5 x NullReferenceException in FrameResolver.Resolve", report.Stdout);
    }
}
