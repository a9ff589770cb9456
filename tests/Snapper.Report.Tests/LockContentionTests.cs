using System.Text.Json;
using Snapper.Store;
using static Snapper.Report.Tests.ProfileBuilder;

namespace Snapper.Report.Tests;

/// <summary>
/// The contention view on a profile whose every figure is worked out by hand (see <see cref="Contended"/>): shares are
/// of weighted wall samples, CPU-only samples are no sighting, a holder counts once per snapshot however many waited.
/// </summary>
public sealed class LockContentionTests
{
    static readonly FrameInfo Main = Managed("Program", "Main"), Run = Managed("App.Worker", "Run"), Compute = Managed("App.Worker", "Compute");
    static readonly FrameInfo MonitorEnter = Framework("System.Threading.Monitor", "Enter"), ReliableEnter = Framework("System.Threading.Monitor", "ReliableEnter");
    static readonly FrameInfo Slowpath = Transition("QCall!Monitor_Enter_Slowpath"), Futex = Native("futex_wait", "libc.so.6");

    /// <summary>
    /// Five snapshots of four threads, the second of weight 3: 28 wall samples. "Worker 1" and "Worker 2" wait on a
    /// Monitor on App.Ledger (from Place, line 42, and Cancel, line 77) held by "Holder A", asleep in Ledger.Post in
    /// snapshots 1 and 2 and computing in Ledger.Sum in 4; in 3 no holder was named. In 2, "Worker 2" waits on a
    /// System.Threading.Lock (from Cache.Refresh, its wait under a P/Invoke's IL stub) held by "Holder B", reading. Worker 1's wait in 1 and Holder A's sleep
    /// in 1 used CPU: each has a CPU-only twin sample in that snapshot, which must not count.
    /// </summary>
    internal static Profile Contended()
    {
        var b = new ProfileBuilder { KnowsRunState = true };
        var w1 = b.Thread(1, "Worker 1");
        var w2 = b.Thread(2, "Worker 2");
        var a = b.Thread(3, "Holder A");
        var h = b.Thread(4, "Holder B");
        var ledger = b.Lock(LockKind.Monitor, "App.Ledger", 0x7f00_0000_1000);
        var cache = b.Lock(LockKind.Lock, "System.Threading.Lock", 0x7f00_0000_2000);

        var waitPlace = b.Stack(Main, Run, Managed("App.Orders", "Place", line: 42), MonitorEnter, ReliableEnter, Slowpath, Futex);
        var waitCancel = b.Stack(Main, Run, Managed("App.Orders", "Cancel", line: 77), MonitorEnter, Slowpath, Futex);
        var waitRefresh = b.Stack(Main, Run, Managed("App.Cache", "Refresh", line: 12), Framework("System.Threading.Lock", "EnterAndGetCurrentThreadId"),
            Framework("System.Threading.Lock", "TryEnterSlow"), new FrameInfo(FrameKind.Managed, "", "(dynamicClass)", "IL_STUB_PInvoke"),
            Framework("System.Threading.LowLevelLifoSemaphore", "WaitForSignal"), Futex);
        var placing = Managed("App.Orders", "Place", line: 43);
        var sleeping = b.Stack(Main, Run, placing, Managed("App.Ledger", "Post", line: 30), Framework("System.Threading.Thread", "Sleep"), Native("nanosleep", "libc.so.6"));
        var summing = b.Stack(Main, Run, placing, Managed("App.Ledger", "Post", line: 31), Managed("App.Ledger", "Sum"));
        var reading = b.Stack(Main, Run, Managed("App.Cache", "Refresh", line: 13), Managed("App.Cache", "Load"), Transition("[PInvoke] read"), Native("read", "libc.so.6"));
        var working = b.Stack(Main, Run, Compute);

        b.Weigh(2, 3);
        b.SampleAt(1, w1, waitPlace, SampleState.LockWait, cpuNs: 2_000_000).SampleAt(1, w2, waitCancel, SampleState.LockWait)
            .SampleAt(1, a, sleeping, SampleState.Sleep, cpuNs: 1_000_000).SampleAt(1, h, working, SampleState.Cpu);
        b.Wait(1, w1, ledger, a).Wait(1, w2, ledger, a);
        b.SampleAt(2, w1, waitPlace, SampleState.LockWait).SampleAt(2, w2, waitRefresh, SampleState.LockWait)
            .SampleAt(2, a, sleeping, SampleState.Sleep).SampleAt(2, h, reading, SampleState.Io);
        b.Wait(2, w1, ledger, a).Wait(2, w2, cache, h);
        b.SampleAt(3, w1, waitPlace, SampleState.LockWait).SampleAt(3, w2, working, SampleState.Cpu)
            .SampleAt(3, a, summing, SampleState.Cpu).SampleAt(3, h, working, SampleState.Cpu);
        b.Wait(3, w1, ledger, null);
        b.SampleAt(4, w1, working, SampleState.Cpu).SampleAt(4, w2, waitCancel, SampleState.LockWait)
            .SampleAt(4, a, summing, SampleState.Cpu).SampleAt(4, h, working, SampleState.Cpu);
        b.Wait(4, w2, ledger, a);
        foreach (var thread in new[] { w1, w2, a, h }) b.SampleAt(5, thread, working, SampleState.Cpu);
        return b.Build();
    }

    static readonly string[] SleepingHolder = ["nanosleep", "System.Threading.Thread.Sleep", "App.Ledger.Post", "App.Orders.Place", "App.Worker.Run"];
    static readonly string[] SummingHolder = ["App.Ledger.Sum", "App.Ledger.Post", "App.Orders.Place", "App.Worker.Run", "Program.Main"];
    static readonly string[] ReadingHolder = ["read", "[PInvoke] read", "App.Cache.Load", "App.Cache.Refresh", "App.Worker.Run"];

    [Fact]
    public void The_profile_has_the_cpu_only_twins_the_figures_must_ignore()
    {
        var profile = Contended();
        Assert.Equal(2, profile.Samples.Count(s => s.Activity == SampleActivity.BetweenSamples));
        Assert.Equal(28, profile.Samples.Sum(s => s.Wall));
    }

    [Fact]
    public void Every_figure_of_each_lock_is_weighted_by_wall_samples()
    {
        var contention = LockContention.Of(Contended());

        Assert.Equal(28, contention.TotalSamples);
        Assert.Equal(7, contention.TotalSnapshots);
        Assert.Equal([1, 2], contention.Locks.Select(l => l.Lock.Id)); // most waited first

        var ledger = contention.Locks[0];
        Assert.Equal(new LockInfo(1, LockKind.Monitor, "App.Ledger", 0x7f00_0000_1000), ledger.Lock);
        Assert.Equal(7, ledger.WaitSamples); // 1 + 1 (snapshot 1), 3 (weight 3), 1, 1
        Assert.Equal(7.0 / 28, ledger.WaitShare);
        Assert.Equal(2, ledger.WaiterThreads);
        Assert.Equal(6.0 / 7, ledger.SnapshotShare); // snapshots 1, 2 (weight 3), 3 and 4 of 1 + 3 + 1 + 1 + 1
        Assert.Equal([new LockSite("App.Orders.Place", "Program.cs", 42, 5, 5.0 / 7), new LockSite("App.Orders.Cancel", "Program.cs", 77, 2, 2.0 / 7)],
            ledger.TakenAt);
        Assert.Equal([("Holder A", 3, 6L, 6.0 / 7)], ledger.Owners.Select(o => (o.Thread.DisplayName, o.Thread.Id, o.Samples, o.Share)));
        Assert.Equal(1.0 / 7, ledger.UnnamedOwnerShare);
        // Holder A once per snapshot: asleep in 1 (two waiters named it) and 2 (weight 3), summing in 4.
        Assert.Equal(5, ledger.OwnerSamples);
        Assert.Equal(2, ledger.OwnerStacks.Count);
        AssertStack(SleepingHolder, SampleState.Sleep, 4, 0.8, ledger.OwnerStacks[0]);
        AssertStack(SummingHolder, SampleState.Cpu, 1, 0.2, ledger.OwnerStacks[1]);

        var cache = contention.Locks[1];
        Assert.Equal(new LockInfo(2, LockKind.Lock, "System.Threading.Lock", 0x7f00_0000_2000), cache.Lock);
        Assert.Equal(3, cache.WaitSamples);
        Assert.Equal(3.0 / 28, cache.WaitShare);
        Assert.Equal(1, cache.WaiterThreads);
        Assert.Equal(3.0 / 7, cache.SnapshotShare);
        Assert.Equal([new LockSite("App.Cache.Refresh", "Program.cs", 12, 3, 1.0)], cache.TakenAt);
        Assert.Equal([("Holder B", 4, 3L, 1.0)], cache.Owners.Select(o => (o.Thread.DisplayName, o.Thread.Id, o.Samples, o.Share)));
        Assert.Equal(0, cache.UnnamedOwnerShare);
        Assert.Equal(3, cache.OwnerSamples);
        AssertStack(ReadingHolder, SampleState.Io, 3, 1.0, Assert.Single(cache.OwnerStacks));
    }

    static void AssertStack(string[] frames, SampleState state, long samples, double share, OwnerStack actual)
    {
        Assert.Equal(frames, actual.Frames);
        Assert.Equal(state, actual.State);
        Assert.Equal(samples, actual.Samples);
        Assert.Equal(share, actual.Share, 12);
    }

    [Fact]
    public void Waits_outside_the_view_do_not_count_but_their_holders_are_still_named()
    {
        var profile = Contended();
        // Only Worker 2's samples, as "--threads 'Worker 2'" selects them: the holders are other threads.
        var shown = profile.WithSamples(profile.Samples.Where(s => s.ThreadId == 2).ToList(), profile.Threads.Where(t => t.Id == 2).ToList());
        var contention = LockContention.Of(shown, holders: profile);

        Assert.Equal(7, contention.TotalSamples); // 1 + 3 + 1 + 1 + 1
        Assert.Equal(["System.Threading.Lock", "App.Ledger"], contention.Locks.Select(l => l.Lock.TypeName)); // 3 waiting samples, then 2
        Assert.Equal(3.0 / 7, contention.Locks[0].WaitShare);
        Assert.Equal([("Holder B", 1.0)], contention.Locks[0].Owners.Select(o => (o.Thread.DisplayName, o.Share)));
        var ledger = contention.Locks[1];
        Assert.Equal(2, ledger.WaitSamples);
        Assert.Equal(2.0 / 7, ledger.WaitShare);
        Assert.Equal([new LockSite("App.Orders.Cancel", "Program.cs", 77, 2, 1.0)], ledger.TakenAt);
        Assert.Equal([("Holder A", 1.0)], ledger.Owners.Select(o => (o.Thread.DisplayName, o.Share)));
        // A tie, broken by the frames' names: "App.Ledger.Sum" before "nanosleep".
        Assert.Equal([(SampleState.Cpu, 0.5), (SampleState.Sleep, 0.5)], ledger.OwnerStacks.Select(s => (s.State, s.Share)));
    }

    [Fact]
    public void A_profile_without_waits_has_no_locks() => Assert.Empty(LockContention.Of(SampleProfiles.Demo()).Locks);

    [Fact]
    public void Text_report_has_the_lock_contention_section()
    {
        var text = GoldenReportTests.Text(Contended());
        var start = text.IndexOf("\nLock contention", StringComparison.Ordinal) + 1;
        var end = text.IndexOf("\nTop ", start, StringComparison.Ordinal) + 1;
        Assert.Equal(string.Join('\n',
            "Lock contention (threads blocked entering a lock, most waited first; shares of wall-clock samples)",
            "  Monitor on App.Ledger at 0x7f0000001000",
            "    waiting    25.0% of samples (7), 2 threads, in 85.7% of snapshots",
            "    taken at   71.4%  App.Orders.Place (Program.cs:42)",
            "               28.6%  App.Orders.Cancel (Program.cs:77)",
            "    held by    85.7%  Holder A (tid 1003)",
            "               14.3%  " + LockContentionText.UnnamedOwner,
            "    while holding it (the holders' 5 samples in those snapshots, innermost frame first)",
            "               80.0%  sleep      nanosleep",
            "                                 System.Threading.Thread.Sleep",
            "                                 App.Ledger.Post",
            "                                 App.Orders.Place",
            "                                 App.Worker.Run",
            "               20.0%  cpu        App.Ledger.Sum",
            "                                 App.Ledger.Post",
            "                                 App.Orders.Place",
            "                                 App.Worker.Run",
            "                                 Program.Main",
            "  System.Threading.Lock at 0x7f0000002000",
            "    waiting    10.7% of samples (3), 1 thread, in 42.9% of snapshots",
            "    taken at  100.0%  App.Cache.Refresh (Program.cs:12)",
            "    held by   100.0%  Holder B (tid 1004)",
            "    while holding it (the holders' 3 samples in those snapshots, innermost frame first)",
            "              100.0%  io         read",
            "                                 [PInvoke] read",
            "                                 App.Cache.Load",
            "                                 App.Cache.Refresh",
            "                                 App.Worker.Run",
            "", ""), text[start..end]);
    }

    [Fact]
    public void Text_report_has_no_lock_section_without_waits() =>
        Assert.DoesNotContain("Lock contention", GoldenReportTests.Text(SampleProfiles.Demo()));

    [Fact]
    public void Json_report_lists_the_locks_with_every_field()
    {
        using var json = JsonDocument.Parse(GoldenReportTests.Json(Contended()));
        var locks = json.RootElement.GetProperty("locks");
        Assert.Equal(2, locks.GetArrayLength());

        var ledger = locks[0];
        Assert.Equal(["kind", "type", "address", "waitSamples", "waitShare", "waiterThreads", "snapshotShare", "takenAt", "owners",
            "unnamedOwnerShare", "ownerSamples", "ownerStacks"], ledger.EnumerateObject().Select(p => p.Name));
        Assert.Equal("monitor", ledger.GetProperty("kind").GetString());
        Assert.Equal("App.Ledger", ledger.GetProperty("type").GetString());
        Assert.Equal("0x7f0000001000", ledger.GetProperty("address").GetString());
        Assert.Equal(7, ledger.GetProperty("waitSamples").GetInt64());
        Assert.Equal(0.25, ledger.GetProperty("waitShare").GetDouble());
        Assert.Equal(2, ledger.GetProperty("waiterThreads").GetInt32());
        Assert.Equal(0.85714, ledger.GetProperty("snapshotShare").GetDouble());
        Assert.Equal([("App.Orders.Place", "Program.cs", 42, 5L, 0.71429), ("App.Orders.Cancel", "Program.cs", 77, 2L, 0.28571)],
            ledger.GetProperty("takenAt").EnumerateArray().Select(s => (s.GetProperty("frame").GetString(), s.GetProperty("file").GetString(),
                s.GetProperty("line").GetInt32(), s.GetProperty("samples").GetInt64(), s.GetProperty("share").GetDouble())));
        Assert.Equal([("Holder A", 3, 6L, 0.85714)], ledger.GetProperty("owners").EnumerateArray().Select(o => (o.GetProperty("thread").GetString(),
            o.GetProperty("threadId").GetInt32(), o.GetProperty("samples").GetInt64(), o.GetProperty("share").GetDouble())));
        Assert.Equal(0.14286, ledger.GetProperty("unnamedOwnerShare").GetDouble());
        Assert.Equal(5, ledger.GetProperty("ownerSamples").GetInt64());
        var stacks = ledger.GetProperty("ownerStacks").EnumerateArray().ToList();
        Assert.Equal(2, stacks.Count);
        Assert.Equal(SleepingHolder, stacks[0].GetProperty("frames").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal("sleep", stacks[0].GetProperty("state").GetString());
        Assert.Equal(4, stacks[0].GetProperty("samples").GetInt64());
        Assert.Equal(0.8, stacks[0].GetProperty("share").GetDouble());
        Assert.Equal(SummingHolder, stacks[1].GetProperty("frames").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal("cpu", stacks[1].GetProperty("state").GetString());
        Assert.Equal(0.2, stacks[1].GetProperty("share").GetDouble());

        var cache = locks[1];
        Assert.Equal("lock", cache.GetProperty("kind").GetString());
        Assert.Equal("System.Threading.Lock", cache.GetProperty("type").GetString());
        Assert.Equal(0.10714, cache.GetProperty("waitShare").GetDouble());
        Assert.Equal(0.42857, cache.GetProperty("snapshotShare").GetDouble());
        Assert.Equal(0, cache.GetProperty("unnamedOwnerShare").GetDouble());
        Assert.Equal("Holder B", cache.GetProperty("owners")[0].GetProperty("thread").GetString());
        Assert.Equal("io", cache.GetProperty("ownerStacks")[0].GetProperty("state").GetString());
    }

    [Fact]
    public void Json_report_has_an_empty_locks_array_without_waits()
    {
        using var json = JsonDocument.Parse(GoldenReportTests.Json(SampleProfiles.Demo()));
        Assert.Equal(0, json.RootElement.GetProperty("locks").GetArrayLength());
    }

    [Fact]
    public void Json_takenAt_has_null_frame_file_and_line_when_unknown()
    {
        var b = new ProfileBuilder();
        var waiter = b.Thread(1, "Waiter");
        var monitor = b.Lock(LockKind.Monitor, "System.Object", 0x1000);
        b.SampleAt(1, waiter, b.Stack(MonitorEnter, Slowpath), SampleState.LockWait).Wait(1, waiter, monitor, null);
        b.SampleAt(2, waiter, b.Stack(Main, Managed("App.NoPdb", "Take"), MonitorEnter), SampleState.LockWait).Wait(2, waiter, monitor, null);
        using var json = JsonDocument.Parse(GoldenReportTests.Json(b.Build()));

        var sites = json.RootElement.GetProperty("locks")[0].GetProperty("takenAt").EnumerateArray().ToList();
        Assert.Equal(2, sites.Count);
        Assert.Equal(JsonValueKind.Null, sites[0].GetProperty("frame").ValueKind); // ties by frame: null first
        Assert.Equal("App.NoPdb.Take", sites[1].GetProperty("frame").GetString());
        Assert.All(sites, s => Assert.Equal(JsonValueKind.Null, s.GetProperty("file").ValueKind));
        Assert.All(sites, s => Assert.Equal(JsonValueKind.Null, s.GetProperty("line").ValueKind));
        Assert.Equal(1.0, json.RootElement.GetProperty("locks")[0].GetProperty("unnamedOwnerShare").GetDouble());
        Assert.Empty(json.RootElement.GetProperty("locks")[0].GetProperty("ownerStacks").EnumerateArray());
    }

    const string Hostile = "<script>alert(1)</script>";

    [Fact]
    public void Html_report_has_the_section_with_target_names_escaped()
    {
        var b = new ProfileBuilder();
        var waiter = b.Thread(1, "Waiter");
        var holder = b.Thread(2, Hostile);
        var monitor = b.Lock(LockKind.Monitor, Hostile, 0x1000);
        b.SampleAt(1, waiter, b.Stack(Main, Managed(Hostile, "Take", line: 5), MonitorEnter), SampleState.LockWait).Wait(1, waiter, monitor, holder);
        b.SampleAt(1, holder, b.Stack(Main, Managed("App.Holder", Hostile)), SampleState.Cpu);
        var html = HtmlReportTests.Html(b.Build());
        var section = html[html.IndexOf("<section id=\"locks\">", StringComparison.Ordinal)..];
        section = section[..(section.IndexOf("</section>", StringComparison.Ordinal) + "</section>".Length)];

        Assert.Contains("<h2>Lock contention</h2>", section);
        Assert.Contains("<a href=\"#locks\">Lock contention</a>", html);
        Assert.DoesNotContain("<script>alert", section);
        const string escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
        Assert.Contains($"<span class=\"lock-type\">{escaped}</span>", section); // the locked object's type
        Assert.Contains($"<td class=\"name\">{escaped}.Take (Program.cs:5)</td>", section); // where it is taken
        Assert.Contains($"<td>{escaped} (tid 1002)</td>", section); // its holder
        Assert.Contains($"<div>App.Holder.{escaped}</div>", section); // what the holder was doing
        Assert.Contains("<b>50.0%</b> of samples waiting (1), 1 thread, in 100.0% of snapshots", section); // of the waiter's and the holder's
    }

    [Fact]
    public void Html_report_has_no_lock_section_without_waits()
    {
        var html = HtmlReportTests.Html(SampleProfiles.Demo());
        Assert.DoesNotContain("id=\"locks\"", html);
        Assert.DoesNotContain("href=\"#locks\"", html);
    }
}
