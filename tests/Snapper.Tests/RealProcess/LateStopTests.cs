using System.Diagnostics;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// A thread that cannot enter its stop in time (deep in an uninterruptible system call) is not waited for, and enters
/// the stop later, when the call returns: it must be let go then, not at the next snapshot, which with a long interval
/// is far away (issue 21: held until the next sample, an hour with --interval 1h).
/// </summary>
public sealed class LateStopTests
{
    [Fact]
    public void A_thread_that_stops_after_its_snapshot_is_let_go_at_once_not_at_the_next_snapshot()
    {
        using var dir = new TempDirectory();
        var fifo = dir.File("release");
        Assert.Equal(0, Native.MakeFifo(fifo, 0x180));
        using var target = RunningTarget.StartTestTarget("uninterruptible", fifo);
        var tid = WaitFor(() => target.Threads().FirstOrDefault(t => t.Name == "Uninterruptible" && t.State == 'D').Tid, "the thread in state D");

        using var snapper = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--interval", "1h", "--db", dir.File("s.db"), "--no-report"))!;
        try
        {
            // Seized by the first snapshot (by Snapper's sampling thread: the tracer is a thread), which could not stop
            // it and went on without it.
            WaitFor(() => TracerOf(target.Pid, tid) is var tracer && tracer != 0 && Directory.Exists($"/proc/{snapper.Id}/task/{tracer}") ? 1 : 0,
                "Snapper seizing the thread");
            // The snapshot is over once it gave up on the thread (after its stop deadline, 100 ms) and let the others go:
            // no other thread stopped for longer than that deadline (with a one-hour interval no other snapshot comes).
            var calm = Stopwatch.StartNew();
            WaitFor(() =>
            {
                if (target.Threads().Any(t => t.Tid != tid && t.State is 't' or 'T')) calm.Restart();
                return calm.Elapsed > TimeSpan.FromMilliseconds(500) ? 1 : 0;
            }, "the snapshot to end without the thread");
            Assert.Equal('D', target.Threads().Single(t => t.Tid == tid).State);

            using (new FileStream(fifo, FileMode.Open, FileAccess.Write)) { } // the child goes on to exec: the thread returns, into its stop
            WaitFor(() => TracerOf(target.Pid, tid) == 0 && !target.AnyThreadStopped() ? 1 : 0,
                $"thread {tid} let go (state {target.Threads().FirstOrDefault(t => t.Tid == tid).State}, tracer {TracerOf(target.Pid, tid)})");
            Assert.False(snapper.HasExited, "Snapper ended: the release must not wait for the capture's end");
        }
        finally
        {
            if (!snapper.HasExited) Native.Kill(snapper.Id, Native.SIGINT);
        }
        var result = SnapperCli.Wait(snapper, TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(target.AnyThreadStopped());
    }

    static int WaitFor(Func<int> found, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (found() is var value and not 0) return value;
            Thread.Sleep(20);
        }
        throw new Xunit.Sdk.XunitException($"timed out waiting for {what}");
    }

    static int TracerOf(int pid, int tid) =>
        File.ReadAllLines($"/proc/{pid}/task/{tid}/status").Where(l => l.StartsWith("TracerPid:", StringComparison.Ordinal))
            .Select(l => int.Parse(l["TracerPid:".Length..].Trim())).Single();
}
