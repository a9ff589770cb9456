using System.Diagnostics;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>A capture killed outright keeps every committed sample, and its session is closed as abandoned on the next open.</summary>
public sealed class AbandonedSessionTests
{
    [Fact]
    public void A_killed_capture_is_marked_abandoned_with_its_committed_samples()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var db = dir.File("s.db");
        using (var snapper = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--duration", "1m", "--db", db, "--no-report"))!)
        {
            SampleCommandTests.WaitForStoredSamples(db, atLeast: 30);
            Assert.Equal(0, Native.Kill(snapper.Id, Native.SIGKILL));
            Assert.True(snapper.WaitForExit(10_000));
        }

        var listing = SnapperCli.Run("sessions", "--db", db);

        Assert.True(listing.ExitCode == 0, listing.ToString());
        Assert.Contains("abandoned", listing.Stdout);
        var session = ProfileQueries.LoadLatest(db).Session;
        Assert.Equal(SessionEndReason.Abandoned, session.EndReason);
        Assert.True(session.SnapshotCount >= 30, $"{session.SnapshotCount} samples kept");
        Assert.NotNull(session.EndedUtc);
        Assert.True(session.AchievedRate > 50, $"achieved {session.AchievedRate}");
        var report = SnapperCli.Run("report", "--db", db, "--format", "text");
        Assert.True(report.ExitCode == 0, report.ToString());
        Assert.Contains("abandoned", report.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_session_being_written_is_not_taken_for_abandoned()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var db = dir.File("s.db");
        using var snapper = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--duration", "6s", "--db", db, "--no-report"))!;
        SampleCommandTests.WaitForStoredSamples(db, atLeast: 10);

        var listing = SnapperCli.Run("sessions", "--db", db);

        Assert.Contains("running", listing.Stdout);
        var done = SnapperCli.Wait(snapper, TimeSpan.FromMinutes(1));
        Assert.True(done.ExitCode == 0, done.ToString());
        Assert.Equal(SessionEndReason.DurationReached, ProfileQueries.LoadLatest(db).Session.EndReason);
    }
}
