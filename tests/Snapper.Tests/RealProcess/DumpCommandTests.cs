using System.Text.Json;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// <c>snapper dump</c> on the "locks" target: named holders of two Monitors and two System.Threading.Locks, named waiters
/// queued on each, and a thread that holds a Monitor while it queues on a Lock. Every waiter must name the holder of the
/// lock it waits for (with two of each kind, a link to the wrong holder shows), from one stop that leaves nothing held.
/// </summary>
public sealed class DumpCommandTests
{
    static readonly Dictionary<string, (string Kind, string Holder)> Expected = new()
    {
        ["Orders waiter 1"] = ("monitor", "Orders holder"),
        ["Orders waiter 2"] = ("monitor", "Orders holder"),
        ["Orders waiter 3"] = ("monitor", "Orders holder"),
        ["Stock waiter 1"] = ("monitor", "Stock holder"),
        ["Payments waiter 1"] = ("lock", "Payments holder"),
        ["Payments waiter 2"] = ("lock", "Payments holder"),
        ["Payments waiter 3"] = ("lock", "Payments holder"),
        ["Shipping waiter 1"] = ("lock", "Shipping holder"),
        ["Chain holder"] = ("lock", "Shipping holder"),
        ["Chain waiter 1"] = ("monitor", "Chain holder"),
    };

    [Fact]
    public void Each_waiter_names_the_holder_of_the_lock_it_waits_for()
    {
        using var target = RunningTarget.StartTestTarget("locks");

        var result = SnapperCli.Run("dump", "--pid", target.Pid.ToString(), "--format", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var dump = JsonDocument.Parse(result.Stdout);
        var threads = dump.RootElement.GetProperty("threads").EnumerateArray().ToList();
        var nameOf = threads.ToDictionary(t => t.GetProperty("osThreadId").GetInt32(), t => t.GetProperty("name").GetString() ?? "");
        foreach (var (waiter, (kind, holder)) in Expected)
        {
            var thread = threads.Single(t => t.GetProperty("name").GetString() == waiter);
            Assert.True(thread.TryGetProperty("waitsFor", out var wait), $"{waiter}: no lock found\n{result.Stdout}");
            Assert.Equal(kind, wait.GetProperty("kind").GetString());
            var owner = wait.GetProperty("ownerOsThreadId");
            Assert.True(owner.ValueKind == JsonValueKind.Number, $"{waiter}: no holder");
            Assert.Equal(holder, nameOf[owner.GetInt32()]);
            Assert.Equal("lock/wait", thread.GetProperty("state").GetString());
        }
        // Monitors are told apart by the locked object's type; the runtime counts a Monitor's waiters.
        var ordersWait = threads.Single(t => t.GetProperty("name").GetString() == "Orders waiter 1").GetProperty("waitsFor");
        Assert.Equal("Snapper.TestTarget.OrdersLedger", ordersWait.GetProperty("lockType").GetString());
        Assert.Equal(3, ordersWait.GetProperty("waiters").GetInt32());
        // Holders and threads waiting for nothing carry no lock.
        foreach (var name in new[] { "Orders holder", "Stock holder", "Payments holder", "Shipping holder" })
            Assert.False(threads.Single(t => t.GetProperty("name").GetString() == name).TryGetProperty("waitsFor", out _), name);
        Assert.False(threads.Single(t => t.GetProperty("role").GetString() == "main thread").TryGetProperty("waitsFor", out _), "main thread");
        // Frames innermost first: a Monitor waiter is inside Monitor.Enter, under the test's own method.
        var frames = threads.Single(t => t.GetProperty("name").GetString() == "Stock waiter 1").GetProperty("frames").EnumerateArray()
            .Select(f => f.GetProperty("type").GetString() + "." + f.GetProperty("method").GetString()).ToList();
        Assert.True(frames.IndexOf("System.Threading.Monitor.Enter") < frames.IndexOf("Snapper.TestTarget.LockWaiters.EnterMonitor"), string.Join("\n", frames));
        Assert.False(target.AnyThreadStopped(), "a thread was left stopped");
    }

    [Fact]
    public void The_text_dump_lists_every_managed_thread_with_its_state_and_the_holder_of_its_lock()
    {
        using var target = RunningTarget.StartTestTarget("locks");

        var result = SnapperCli.Run("dump", "--pid", target.Pid.ToString());

        Assert.True(result.ExitCode == 0, result.ToString());
        var text = result.Stdout;
        Assert.StartsWith($"Process {target.Pid} (Snapper.TestTarget), .NET ", text);
        Assert.Matches(@"held \d+\.\d\d ms", text.Split('\n')[0]);
        // Every thread the target named is there, under its name.
        foreach (var (tid, name, _) in target.Threads().Where(t => t.Name.Contains("holder") || t.Name.Contains("waiter")))
            Assert.Contains($"Thread {tid} ", text);
        foreach (var name in Expected.Keys) Assert.Contains($"\"{name}\"", text);
        // Every thread of the process, managed or not (the runtime's own native threads follow the managed ones).
        foreach (var (tid, _, _) in target.Threads()) Assert.Contains($"Thread {tid} ", text);
        Assert.Contains("Native threads (no managed frames at the stop", text);
        var holder = target.Threads().Single(t => t.Name == "Payments holder"); // 15 characters: all the kernel keeps of a name
        Assert.Contains($"waiting to enter System.Threading.Lock at 0x", text);
        Assert.Contains($"held by thread {holder.Tid} \"Payments holder\" (sleep)", text);
        Assert.Contains("waiting to enter lock on Snapper.TestTarget.StockLedger at 0x", text);
        Assert.False(target.AnyThreadStopped(), "a thread was left stopped");
    }

    [Fact]
    public void A_dump_kept_in_a_store_is_a_session_of_one_sample_the_reports_read()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("locks");
        var db = dir.File("dump.db");

        var result = SnapperCli.Run("dump", "--pid", target.Pid.ToString(), "--db", db, "--threads", "waiter");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Kept in", result.Stderr);
        Assert.DoesNotContain("\"Orders holder\"", result.Stdout); // --threads applies to the printout too
        var stored = ProfileQueries.LoadLatest(db);
        Assert.Single(stored.Snapshots);
        var stacks = ProfileQueries.StacksOf(stored, "Stock waiter 1");
        Assert.Contains(stacks, s => s.Any(f => f.TypeName == "Snapper.TestTarget.LockWaiters" && f.MethodName == "EnterMonitor"));
        Assert.DoesNotContain(stored.Threads, t => t.Name == "Orders holder");
        var report = SnapperCli.Run("report", "--db", db, "--format", "text");
        Assert.True(report.ExitCode == 0, report.ToString());
    }

    [Fact]
    public void Without_a_process_the_dump_says_what_to_give()
    {
        var none = SnapperCli.Run("dump");
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("give the process to dump with --pid or --name", none.Stderr);
        var gone = SnapperCli.Run("dump", "--name", "no-such-app-anywhere");
        Assert.Equal(11, gone.ExitCode);
        Assert.DoesNotContain("   at ", gone.Stderr); // one line, no stack trace
    }
}
