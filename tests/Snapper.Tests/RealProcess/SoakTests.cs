using System.Diagnostics;
using System.Globalization;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// The short, CI-sized version of the soak (the hour-long one, with the target's throughput before and after and
/// Snapper's memory figures, is `Snapper.Benchmark --soak 60`: docs/footprint.md). Behaviour only, nothing timed:
/// 9,000 snapshots of a busy target; Snapper's memory, read where it is lowest (just after each of its collections,
/// see FootprintKeeper), does not climb from the first half of the capture to the second, however long the capture
/// takes on a busy machine; and the target is left running, untraced, still working.
/// </summary>
public sealed class SoakTests(Xunit.Abstractions.ITestOutputHelper output)
{
    const int Snapshots = 9000;
    static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(20);

    [Fact]
    public void A_long_capture_keeps_snappers_memory_flat_and_leaves_the_target_working()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("bench", "4", "9");

        using var snapper = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(CultureInfo.InvariantCulture), "--rate", "100",
            "--count", Snapshots.ToString(CultureInfo.InvariantCulture), "--db", dir.File("s.db"), "--no-report", "--quiet"))!;
        var clock = Stopwatch.StartNew();
        var memory = new List<(TimeSpan At, long Kb)>();
        while (!snapper.WaitForExit(1000))
            if (AnonymousKb(snapper.Id) is { } kb) memory.Add((clock.Elapsed, kb));
        var result = SnapperCli.Wait(snapper, TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.ToString());

        Assert.False(target.AnyThreadStopped(), "the target was left stopped");
        Assert.All(target.Threads(), t => Assert.True(TracerOf(target.Pid, t.Tid) == 0, $"thread {t.Tid} ({t.Name}) is still traced"));
        var work = Work(target);
        Thread.Sleep(500);
        Assert.True(Work(target) > work, "the target does no work after the capture");

        // A leak of a few hundred bytes a snapshot would add megabytes from one half to the other.
        var settled = memory.Where(m => m.At >= WarmUp).ToList();
        Assert.True(settled.Count >= 20, $"{settled.Count} memory readings after warm-up");
        var (first, second) = (settled[..(settled.Count / 2)].Min(m => m.Kb), settled[(settled.Count / 2)..].Min(m => m.Kb));
        output.WriteLine($"Snapper RssAnon, lowest in each half after warm-up: {first / 1024.0:F1} -> {second / 1024.0:F1} MB over {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(second - first < 8 * 1024, $"Snapper's memory grew {(second - first) / 1024.0:F1} MB after warm-up: {string.Join(", ", settled.Select(m => m.Kb / 1024))} MB");
        var profile = ProfileQueries.LoadLatest(dir.File("s.db"));
        Assert.Equal(Snapshots, profile.Session.SnapshotCount);
    }

    static long Work(RunningTarget target)
    {
        target.Process.StandardInput.WriteLine("?");
        target.Process.StandardInput.Flush();
        return long.Parse(target.Process.StandardOutput.ReadLine()!.Split(' ')[1], CultureInfo.InvariantCulture);
    }

    static int TracerOf(int pid, int tid) =>
        File.ReadLines($"/proc/{pid}/task/{tid}/status").Where(l => l.StartsWith("TracerPid:", StringComparison.Ordinal))
            .Select(l => int.Parse(l["TracerPid:".Length..].Trim(), CultureInfo.InvariantCulture)).Single();

    /// <summary>RssAnon: what Snapper holds that nothing shares (its heaps), not the code it maps.</summary>
    static long? AnonymousKb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[8..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null; // exited between the check and the read
        }
    }
}
