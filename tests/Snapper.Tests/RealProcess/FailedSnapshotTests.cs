using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// A snapshot that fails after its stops leaves nothing behind for the next one (issue 21 point 5): the threads it had
/// stopped, still listed, were taken for native threads at the next snapshot (stopped, but no managed thread walked for
/// them) and left unsampled for 10 s, or walked as if stopped while they ran. Every other snapshot fails, injected once its threads are walked (SNAPPER_FAIL_WALK_EVERY).
/// </summary>
public sealed class FailedSnapshotTests
{
    [Fact]
    public void Every_snapshot_after_a_failed_one_has_every_managed_thread()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var db = dir.File("f.db");
        var info = SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--rate", "50", "--count", "30", "--db", db, "--no-report");
        info.Environment["SNAPPER_FAIL_WALK_EVERY"] = "2";
        var result = SnapperCli.Wait(System.Diagnostics.Process.Start(info)!, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("injected failure", result.Stderr);

        var profile = ProfileQueries.LoadLatest(db);
        Assert.Equal(30, profile.Snapshots.Count);
        string[] named = ["Spinner", "Recursor", "NativeSleeper", "Waiter", "Order pipeline: settlement worker #1"];
        var ids = named.ToDictionary(name => name, name => profile.Threads.Single(t => t.Name == name).Id);
        foreach (var snapshot in profile.Snapshots)
        {
            // Wall samples only: a thread's CPU since its last sample may add one more, at read time (BetweenSamples).
            var samples = profile.Samples.Where(s => s.Sequence == snapshot.Sequence && s.Wall > 0).ToList();
            var present = samples.Select(s => s.ThreadId).ToHashSet();
            var missing = named.Where(name => !present.Contains(ids[name])).ToList();
            Assert.True(missing.Count == 0, $"snapshot {snapshot.Sequence} lacks {string.Join(", ", missing)}");
            // A thread the failed snapshot had stopped, still listed as stopped, was walked again while running.
            Assert.True(present.Count == samples.Count, $"snapshot {snapshot.Sequence} has a thread twice");
        }
        Assert.False(target.AnyThreadStopped());
    }
}
