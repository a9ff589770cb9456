using System.Diagnostics;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Sampling fast while the target churns threads and the GC, and receives signals: every signal arrives exactly
/// once, the target keeps working and is never left stopped, and Snapper finishes cleanly.
/// </summary>
public sealed class StressTests
{
    [Fact]
    public void Thread_churn_gc_churn_and_signals_survive_a_fast_capture()
    {
        using var dir = new TempDirectory();
        var info = new ProcessStartInfo(Dotnet.Host, [Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll"), "stress"])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        using var target = RunningTarget.StartAndWait(info);
        var before = Query(target);
        using var snapper = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--duration", "4s", "--rate", "200",
            "--db", dir.File("s.db"), "--no-report"))!;

        const int signals = 400;
        for (var i = 0; i < signals; i++)
        {
            Assert.Equal(0, Native.Kill(target.Pid, 36 /* SIGRTMIN+2: queued, so none may merge */));
            Thread.Sleep(5);
        }
        var result = SnapperCli.Wait(snapper, TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, result.ToString());

        // Signals are handled asynchronously: give the last ones a moment to be counted.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var after = Query(target);
        while (after.Signals < before.Signals + signals && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(100);
            after = Query(target);
        }
        // Real-time signals queue: every one sent arrives exactly once, even those caught by Snapper's stops.
        Assert.Equal(before.Signals + signals, after.Signals);
        Assert.True(after.Threads > before.Threads + 50, $"thread churn stalled: {before.Threads} -> {after.Threads}");
        Assert.True(after.Gcs > before.Gcs, "the GC stopped");
        Assert.False(target.AnyThreadStopped(), "the target was left stopped");
        var profile = ProfileQueries.LoadLatest(dir.File("s.db"));
        Assert.True(profile.Session.SnapshotCount > 200, $"{profile.Session.SnapshotCount} snapshots");
        // Short-lived threads are usually gone before a managed-name read: their OS name (set from Thread.Name) names them.
        Assert.Contains(profile.Threads, t => t.DisplayName.StartsWith("Short-", StringComparison.Ordinal));

        // And it keeps working afterwards.
        var later = Query(target);
        Thread.Sleep(500);
        Assert.True(Query(target).Threads > later.Threads, "the target stopped making progress after the capture");
    }

    static (long Signals, long Threads, long Gcs) Query(RunningTarget target)
    {
        target.Process.StandardInput.WriteLine("?");
        target.Process.StandardInput.Flush();
        var parts = target.Process.StandardOutput.ReadLine()!.Split(' ');
        return (long.Parse(parts[1]), long.Parse(parts[3]), long.Parse(parts[5]));
    }
}
