using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Another process holds the store's write lock (a long report query in a write transaction, a backup tool, a
/// second capture's big commit): a capture that starts says it is waiting, then goes on; one that is running keeps
/// sampling and stores every snapshot once the lock is released.
/// </summary>
public sealed class LockedStoreTests
{
    [Fact]
    public void A_capture_waits_out_a_long_writer_at_its_start_and_in_its_middle_and_loses_nothing()
    {
        using var dir = new TempDirectory();
        var db = dir.File("s.db");
        using var target = RunningTarget.StartTestTarget("mixed");
        Assert.Equal(0, SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "3", "--db", db, "--no-report").ExitCode);

        var snapper = Stopwatch.StartNew();
        Process capture;
        using (HoldWriteLock(db))
        {
            capture = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--duration", "12s", "--rate", "50",
                "--db", db, "--no-report"))!;
            Thread.Sleep(3000);
            Assert.False(capture.HasExited, "the capture gave up while the lock was held");
        }
        SampleCommandTests.WaitForStoredSamples(db, atLeast: 3 + 10);
        using (HoldWriteLock(db)) Thread.Sleep(8000); // most of the capture: its snapshots pile up meanwhile
        var result = SnapperCli.Wait(capture, TimeSpan.FromMinutes(1));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("another writer holds it", result.Stderr);
        Assert.False(target.AnyThreadStopped());
        var profile = ProfileQueries.LoadLatest(db);
        Assert.Equal(Snapper.Store.SessionEndReason.DurationReached, profile.Session.EndReason);
        // 12 s at 50 Hz: every snapshot taken under the lock was stored after it (a loaded machine may run late).
        Assert.True(profile.Session.SnapshotCount >= 400, $"{profile.Session.SnapshotCount} snapshots stored");
        Assert.Equal(profile.Session.SnapshotCount, profile.Snapshots.Count);
        Assert.True(snapper.Elapsed > TimeSpan.FromSeconds(14), "the capture did not wait for the first lock");
    }

    /// <summary>Takes the store's write lock (BEGIN IMMEDIATE) until disposed.</summary>
    static IDisposable HoldWriteLock(string db)
    {
        var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        connection.Open();
        using var begin = connection.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE;";
        begin.ExecuteNonQuery();
        return connection; // disposing rolls back and releases
    }
}
