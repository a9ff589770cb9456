using System.Diagnostics;
using System.Globalization;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Short bursts of work are seen in proportion to the wall time they take (issue 17). Each cause of an undercount
/// found so far fails this: a thread woken less than a tick ago still shows its old run time (taken for "has not
/// run"); a thread stopped late, after its burst ended, or a sleeper's wake-up between the survey and the stops
/// (the snapshot then not one moment); a sampler woken late when the target is busy (its moments then avoid the
/// bursts); and a ±10% jitter that kept the sampler near one phase of a periodic worker for thousands of samples.
/// </summary>
public sealed class BurstTests
{
    [Fact]
    public void Each_kind_of_burst_gets_its_share_of_snapshots_within_one_point_of_what_the_target_measured()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("bursts");
        var db = dir.File("b.db");

        // 6,000 snapshots: the standard error of a 6% share is then 0.3 points, so 1 point is over 3 of them.
        var capture = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--rate", "100", "--duration", "60s",
            "--db", db, "--no-report", "--quiet"))!;
        target.Ask("RESET");
        var result = SnapperCli.Wait(capture, TimeSpan.FromMinutes(3));
        var measured = target.Ask("SHARES").Split(' ').Skip(1).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(result.ExitCode == 0, result.ToString());

        var profile = ProfileQueries.LoadLatest(db);
        Assert.True(profile.Snapshots.Count >= 5000, $"{profile.Snapshots.Count} snapshots");
        string[] methods = ["DedicatedBurst", "PoolBurst", "TimerBurst"];
        var seen = SnapshotShares(profile, methods);
        for (var i = 0; i < methods.Length; i++)
            Assert.True(Math.Abs(seen[i] - measured[i]) <= 1.0,
                $"{methods[i]}: in {seen[i]:0.00}% of snapshots, the target measured {measured[i]:0.00}% (all: seen {string.Join(", ", seen.Select(s => s.ToString("0.00", CultureInfo.InvariantCulture)))}; measured {string.Join(", ", measured)})");
    }


    /// <summary>For each method, the percentage of snapshots in which some thread had it on its stack.</summary>
    static double[] SnapshotShares(Profile profile, string[] methods)
    {
        var inSnapshot = methods.Select(_ => new HashSet<int>()).ToArray();
        var stackHas = new Dictionary<int, int[]>();
        foreach (var sample in profile.Samples)
        {
            if (!stackHas.TryGetValue(sample.StackId, out var found))
            {
                var names = profile.FramesOf(sample.StackId).Select(id => profile.Frames[id])
                    .Where(f => f.TypeName == "Snapper.TestTarget.Bursts").Select(f => f.MethodName).ToHashSet();
                stackHas[sample.StackId] = found = Enumerable.Range(0, methods.Length).Where(i => names.Contains(methods[i])).ToArray();
            }
            foreach (var i in found) inSnapshot[i].Add(sample.Sequence);
        }
        return inSnapshot.Select(s => 100.0 * s.Count / profile.Snapshots.Count).ToArray();
    }
}
