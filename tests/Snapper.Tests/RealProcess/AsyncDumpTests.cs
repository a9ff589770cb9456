using System.Text.Json;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// <c>snapper dump --async</c> on the "async" target: chains three awaits deep (OuterAsync awaits MiddleAsync awaits
/// InnerAsync) waiting on a Task.Delay (2 chains), a socket read (3) and a SemaphoreSlim (4), and 5 finished chains
/// still referenced. Each group must hold its own chains, every awaiting method in order, innermost first; the finished
/// ones must be left out; the target must be left running.
/// </summary>
public sealed class AsyncDumpTests
{
    static readonly (string Kind, string Awaits, string Type, int Chains, string Leaf)[] Expected =
    [
        ("delay", "Task.Delay", "Snapper.TestTarget.DelayedWork", 2, "System.Threading.Tasks.Task+DelayPromise"),
        ("socket", "socket read", "Snapper.TestTarget.SocketWork", 3, "System.Net.Sockets.Socket+AwaitableSocketAsyncEventArgs"),
        ("semaphore", "SemaphoreSlim.WaitAsync", "Snapper.TestTarget.GatedWork", 4, "System.Threading.SemaphoreSlim+TaskNode"),
    ];

    static List<string> Methods(JsonElement chain) =>
        chain.GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("method").GetString()!).ToList();

    [Fact]
    public void Pending_chains_are_grouped_by_what_they_await_with_every_awaiting_method_in_order()
    {
        using var target = RunningTarget.StartTestTarget("async");

        var result = SnapperCli.Run("dump", "--pid", target.Pid.ToString(), "--async", "--format", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(target.AnyThreadStopped(), "a thread was left stopped");
        using var dump = JsonDocument.Parse(result.Stdout);
        var pending = dump.RootElement.GetProperty("async");
        Assert.True(pending.GetProperty("complete").GetBoolean(), result.Stdout);
        Assert.True(pending.GetProperty("objectsWalked").GetInt64() > 100);
        Assert.True(pending.GetProperty("completedLeftOut").GetInt32() >= 5 * 3, "the finished chains' boxes were not seen");
        var groups = pending.GetProperty("groups").EnumerateArray().ToList();
        foreach (var (kind, awaits, type, chains, leaf) in Expected)
        {
            var group = Assert.Single(groups, g => g.GetProperty("awaits").GetString() == awaits);
            Assert.Equal(kind, group.GetProperty("kind").GetString());
            Assert.Equal(chains, group.GetProperty("chains").GetInt32());
            var chain = Assert.Single(group.GetProperty("distinct").EnumerateArray());
            Assert.Equal(chains, chain.GetProperty("count").GetInt32());
            Assert.Equal(leaf, chain.GetProperty("leaf").GetProperty("type").GetString());
            Assert.Equal([$"{type}.InnerAsync", $"{type}.MiddleAsync", $"{type}.OuterAsync"], Methods(chain));
            Assert.All(chain.GetProperty("frames").EnumerateArray(), frame =>
            {
                Assert.True(frame.GetProperty("async").GetBoolean());
                Assert.Equal(0, frame.GetProperty("state").GetInt32()); // each suspended at its first await
            });
        }
        Assert.Equal("Receive", groups.Single(g => g.GetProperty("kind").GetString() == "socket")
            .GetProperty("distinct")[0].GetProperty("leaf").GetProperty("detail").GetString());
        // Finished chains are on the heap (kept referenced) but completed: none of their methods is listed.
        Assert.DoesNotContain("FinishedWork", result.Stdout, StringComparison.Ordinal);
        // The threads are still all there: the async part comes with the dump, not instead of it.
        Assert.Contains(dump.RootElement.GetProperty("threads").EnumerateArray(), t => t.GetProperty("role").GetString() == "main thread");
    }

    [Fact]
    public void The_text_dump_marks_async_frames_and_a_walk_past_its_budget_says_it_is_partial()
    {
        using var target = RunningTarget.StartTestTarget("async");

        var whole = SnapperCli.Run("dump", "--pid", target.Pid.ToString(), "--async");
        // 1 ms: the stops and the stack walks alone take longer, so the heap walk stops at once.
        var partial = SnapperCli.Run("dump", "--pid", target.Pid.ToString(), "--async", "--async-budget", "1ms");

        Assert.True(whole.ExitCode == 0, whole.ToString());
        var text = whole.Stdout;
        Assert.Contains("Pending async work (--async): 9 chains waiting, in 3 groups", text);
        Assert.Contains("heap walked whole:", text);
        Assert.Contains("SemaphoreSlim.WaitAsync: 4 chains\n  4 x awaiting System.Threading.SemaphoreSlim+TaskNode\n"
            + "    [async] Snapper.TestTarget.GatedWork.InnerAsync (state 0)\n"
            + "    [async] Snapper.TestTarget.GatedWork.MiddleAsync (state 0)\n"
            + "    [async] Snapper.TestTarget.GatedWork.OuterAsync (state 0)\n", text);
        Assert.Contains("socket read: 3 chains\n  3 x awaiting System.Net.Sockets.Socket+AwaitableSocketAsyncEventArgs (Receive)\n", text);
        Assert.Contains("Task.Delay: 2 chains\n", text);

        Assert.True(partial.ExitCode == 0, partial.ToString());
        Assert.Contains("heap walked in part:", partial.Stdout);
        Assert.Contains("PARTIAL: the --async-budget (1 ms) ran out after", partial.Stdout);
        Assert.Matches(@"held \d+\.\d\d ms", partial.Stdout.Split('\n')[0]);
        Assert.False(target.AnyThreadStopped(), "a thread was left stopped");
    }

    /// <summary>
    /// The heap is walked only while every thread of the process is held: one that cannot enter its stop (in an
    /// uninterruptible system call) would run on during the walk, so the walk is refused, and the thread dump kept.
    /// </summary>
    [Fact]
    public void The_heap_is_not_walked_while_a_thread_of_the_process_could_not_be_stopped()
    {
        using var dir = new TempDirectory();
        var fifo = dir.File("release");
        Assert.Equal(0, Native.MakeFifo(fifo, 0x180));
        using var target = RunningTarget.StartTestTarget("uninterruptible", fifo);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!target.Threads().Any(t => t.Name == "Uninterruptible" && t.State == 'D') && waited.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(20);
        var stuck = target.Threads().Single(t => t.Name == "Uninterruptible");
        Assert.Equal('D', stuck.State);

        var result = SnapperCli.Run("dump", "--pid", target.Pid.ToString(), "--async", "--format", "json");
        using (new FileStream(fifo, FileMode.Open, FileAccess.Write)) { } // lets the thread out of its system call

        Assert.True(result.ExitCode == 0, result.ToString());
        using var dump = JsonDocument.Parse(result.Stdout);
        var pending = dump.RootElement.GetProperty("async");
        Assert.False(pending.GetProperty("complete").GetBoolean());
        Assert.Equal(0, pending.GetProperty("objectsWalked").GetInt64());
        Assert.Contains($"thread {stuck.Tid} was not held", pending.GetProperty("error").GetString());
        Assert.NotEmpty(dump.RootElement.GetProperty("threads").EnumerateArray());
        waited.Restart();
        while (target.AnyThreadStopped() && waited.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(20);
        Assert.False(target.AnyThreadStopped(), "a thread was left stopped");
    }

    [Fact]
    public void A_budget_without_async_or_out_of_range_is_one_line_and_exit_code_2()
    {
        foreach (var (args, expected) in new[]
        {
            (new[] { "dump", "--pid", "1", "--async-budget", "1s" }, "--async-budget goes with --async"),
            (["dump", "--pid", "1", "--async", "--async-budget", "5m"], "--async-budget must be more than 0 and at most 1m"),
            (["dump", "--pid", "1", "--async", "--async-budget", "soon"], "--async-budget 'soon' is not a duration"),
        })
        {
            var result = SnapperCli.Run(args);
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Contains(expected, result.Stderr);
            Assert.DoesNotContain("   at ", result.Stderr);
        }
    }
}
