using System.Diagnostics;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// A prune run while a capture writes into the same store, from a process that shares nothing with the capture but
/// the store (another TMPDIR, as a systemd unit with PrivateTmp or another user's cron job has), never takes the
/// live session nor the stacks its writer holds the ids of.
/// </summary>
public sealed class PruneDuringCaptureTests
{
    static readonly (string Thread, string Method)[] KnownThreads =
    [
        ("Spinner", "Snapper.TestTarget.Spinner.Spin"),
        ("Recursor", "Snapper.TestTarget.Recursor.Recurse"),
        ("NativeSleeper", "Snapper.TestTarget.NativeSleeper.Run"),
        ("Waiter", "Snapper.TestTarget.Waiter.Run"),
    ];

    [Fact]
    public async Task Prune_from_another_TMPDIR_keeps_the_live_session_and_every_stack_it_wrote()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var db = dir.File("s.db");
        // An older, finished session that the prunes must delete: its stacks are shared with the live one's.
        var old = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "20", "--db", db, "--no-report", "--quiet");
        Assert.True(old.ExitCode == 0, old.ToString());
        Thread.Sleep(1200);

        using var capture = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--duration", "12s",
            "--db", db, "--no-report", "--quiet"))!;
        var captured = Task.Run(() => SnapperCli.Wait(capture, TimeSpan.FromMinutes(1)));
        SampleCommandTests.WaitForStoredSamples(db, atLeast: 30);
        // Prune only while the capture is certainly live: a prune that began just as the capture ended would rightly
        // delete the finished session (it started more than 1 s ago), which is not what this test is about.
        var pruning = Stopwatch.StartNew();
        var prunes = 0;
        while (pruning.Elapsed < TimeSpan.FromSeconds(9) && !captured.IsCompleted)
        {
            using var otherTmp = new TempDirectory();
            var info = SnapperCli.StartInfo("prune", "--db", db, "--older-than", "1s");
            info.Environment["TMPDIR"] = otherTmp.Path;
            using var prune = Process.Start(info)!;
            var pruned = SnapperCli.Wait(prune, TimeSpan.FromMinutes(1));
            Assert.True(pruned.ExitCode == 0, pruned.ToString());
            prunes++;
            await Task.Delay(1000);
        }

        var result = await captured;
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(prunes >= 5, $"only {prunes} prunes ran during the capture");
        using var store = SnapperDatabase.Open(db, create: false);
        var live = Assert.Single(SessionQueries.List(store)); // the old one pruned, the live one kept
        Assert.Equal(SessionEndReason.DurationReached, live.EndReason);
        var profile = ProfileReader.Load(store, live);
        Assert.True(profile.Session.SnapshotCount >= 100, $"{profile.Session.SnapshotCount} snapshots kept");
        Assert.Equal(profile.Session.SnapshotCount, profile.Snapshots.Count);
        foreach (var sample in profile.Samples)
        {
            Assert.True(sample.StackId == 0 || profile.Stacks.ContainsKey(sample.StackId), $"stack {sample.StackId} of snapshot {sample.Sequence} is gone");
            Assert.All(profile.FramesOf(sample.StackId), frame => Assert.True(profile.Frames.ContainsKey(frame), $"frame {frame} is gone"));
        }
        // A stack id that a deleted stack's successor took would resolve, to the wrong frames: each thread shows its own code.
        foreach (var (thread, method) in KnownThreads)
        {
            var stacks = ProfileQueries.StacksOf(profile, thread);
            Assert.Equal(profile.Session.SnapshotCount, stacks.Count);
            Assert.All(stacks, stack => Assert.True(stack.Any(f => f.DisplayName == method), $"{thread}: {ProfileQueries.Describe(stack)}"));
        }
    }
}
