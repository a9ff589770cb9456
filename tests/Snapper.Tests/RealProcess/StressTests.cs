using System.Diagnostics;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Sampling fast while the target churns threads and the GC, throws exceptions constantly, reaps exiting children
/// and receives signals: every signal arrives exactly once, every child's exit is noticed, the target keeps working
/// and is never left stopped, and Snapper (ended with Ctrl+C) finishes cleanly.
/// </summary>
public sealed class StressTests
{
    const int SIGUSR1 = 10, SIGRTMIN2 = 36;

    [Fact]
    public void Thread_churn_gc_churn_exceptions_children_and_signals_survive_a_fast_capture()
    {
        using var dir = new TempDirectory();
        var info = new ProcessStartInfo(Dotnet.Host, [Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll"), "stress"])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        using var target = RunningTarget.StartAndWait(info);
        var before = Counters.Of(target);
        using var snapper = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--duration", "5m", "--rate", "200",
            "--db", dir.File("s.db"), "--no-report"))!;
        var sampling = Stopwatch.StartNew();
        Thread.Sleep(1000); // attached and sampling

        // Real-time signals queue: every one sent must arrive exactly once, even those caught by Snapper's stops.
        const int realTime = 400;
        for (var i = 0; i < realTime; i++)
        {
            Assert.Equal(0, Native.Kill(target.Pid, SIGRTMIN2));
            Thread.Sleep(5);
        }
        // A standard signal, one pending at a time (the next is sent once the last was counted, so the kernel never
        // merges two): exactly one arrival each, though many land while a thread is stopped.
        const int usr1 = 150;
        var counted = before.Usr1;
        for (var i = 0; i < usr1; i++)
        {
            Assert.Equal(0, Native.Kill(target.Pid, SIGUSR1));
            var deadline = DateTime.UtcNow.AddSeconds(5);
            long now;
            while ((now = Counters.Of(target).Usr1) == counted && DateTime.UtcNow < deadline) Thread.Sleep(1);
            Assert.True(now == counted + 1, $"SIGUSR1 {i}: counted {now - counted} arrivals, not 1");
            counted = now;
        }
        Assert.False(snapper.HasExited, "the capture ended before the signals were all sent");
        Assert.Equal(0, Native.Kill(snapper.Id, Native.SIGINT));
        var result = SnapperCli.Wait(snapper, TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, result.ToString());
        var seconds = sampling.Elapsed.TotalSeconds;

        var after = Counters.Of(target);
        var settle = DateTime.UtcNow.AddSeconds(10); // signals are handled asynchronously: let the last ones be counted
        while (after.RealTime < before.RealTime + realTime && DateTime.UtcNow < settle)
        {
            Thread.Sleep(100);
            after = Counters.Of(target);
        }
        Assert.Equal(before.RealTime + realTime, after.RealTime);
        Assert.Equal(before.Usr1 + usr1, after.Usr1);
        Assert.True(after.Threads > before.Threads + 50, $"thread churn stalled: {before.Threads} -> {after.Threads}");
        Assert.True(after.Gcs > before.Gcs, "the GC stopped");
        Assert.True(after.Exceptions > before.Exceptions + 1000, $"exceptions stalled: {before.Exceptions} -> {after.Exceptions}");
        Assert.True(after.Children > before.Children + 20, $"children stalled: {before.Children} -> {after.Children}");
        Assert.Equal(0, after.ChildrenLost); // each exit's SIGCHLD was seen: no child waited five seconds in vain
        Assert.False(target.AnyThreadStopped(), "the target was left stopped");

        var profile = ProfileQueries.LoadLatest(dir.File("s.db"));
        Assert.True(profile.Session.SnapshotCount > 50 * seconds, $"{profile.Session.SnapshotCount} snapshots in {seconds:F1} s");
        // Short-lived threads are usually gone before a managed-name read: their OS name (set from Thread.Name) names them.
        Assert.Contains(profile.Threads, t => t.DisplayName.StartsWith("Short-", StringComparison.Ordinal));
        // The thrower was caught in the middle of throwing: its stacks hold the runtime's exception dispatch.
        var thrower = ProfileQueries.StacksOf(profile, "Thrower");
        Assert.Contains(thrower, s => s.Any(f => f.MethodName == "Fail"));

        // And it keeps working afterwards.
        var later = Counters.Of(target);
        Thread.Sleep(500);
        var last = Counters.Of(target);
        Assert.True(last.Threads > later.Threads && last.Exceptions > later.Exceptions, "the target stopped making progress after the capture");
    }

    sealed record Counters(long RealTime, long Threads, long Gcs, long Usr1, long Exceptions, long Children, long ChildrenLost)
    {
        /// <summary>Asks the target (one stdin line) for its counters: "SIGNALS n THREADS n GCS n USR1 n ...".</summary>
        public static Counters Of(RunningTarget target)
        {
            target.Process.StandardInput.WriteLine("?");
            target.Process.StandardInput.Flush();
            var parts = target.Process.StandardOutput.ReadLine()!.Split(' ');
            long At(string name) => long.Parse(parts[Array.IndexOf(parts, name) + 1]);
            return new Counters(At("SIGNALS"), At("THREADS"), At("GCS"), At("USR1"), At("EXCEPTIONS"), At("CHILDREN"), At("CHILDREN_LOST"));
        }
    }
}
