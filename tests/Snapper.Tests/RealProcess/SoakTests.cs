using System.Diagnostics;
using System.Globalization;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// The short, CI-sized version of the soak (the 30-minute one is `Snapper.Benchmark --soak 30`, figures in the
/// README): 100 Hz for 75 s against a busy target. Snapper's memory must stay flat once warmed up, and the target,
/// measured unsampled, must do as much work after the capture as before it.
/// </summary>
public sealed class SoakTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static readonly TimeSpan Length = TimeSpan.FromSeconds(75), WarmUp = TimeSpan.FromSeconds(20), Window = TimeSpan.FromSeconds(4);

    [Fact]
    public void A_long_capture_keeps_snappers_memory_flat_and_leaves_the_target_as_fast_as_before()
    {
        using var dir = new TempDirectory();
        var info = new ProcessStartInfo(Dotnet.Host, [Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll"), "bench", "4", "9"])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        using var target = RunningTarget.StartAndWait(info);
        Thread.Sleep(1000); // the workers' loops tier up
        var before = WorkRate(target);

        using var snapper = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(CultureInfo.InvariantCulture), "--rate", "100",
            "--duration", $"{(int)Length.TotalSeconds}s", "--db", dir.File("s.db"), "--no-report", "--quiet"))!;
        var clock = Stopwatch.StartNew();
        var memory = new List<(TimeSpan At, long Kb)>();
        while (!snapper.WaitForExit(2000))
            if (ResidentKb(snapper.Id) is { } kb) memory.Add((clock.Elapsed, kb));
        var result = SnapperCli.Wait(snapper, TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(target.AnyThreadStopped(), "the target was left stopped");
        var after = WorkRate(target);

        var settled = memory.Where(m => m.At >= WarmUp).Select(m => m.Kb).ToList();
        Assert.True(settled.Count >= 10, $"{settled.Count} memory readings after warm-up");
        // Growth a leak of a few hundred bytes a sample would show (a 75 s capture takes ~7,500 of them).
        var growthMb = (settled[^1] - settled[0]) / 1024.0;
        output.WriteLine($"Snapper RSS {settled[0] / 1024.0:F1} -> {settled[^1] / 1024.0:F1} MB after warm-up; target work after/before {after / before:F3}");
        Assert.True(growthMb < 12, $"Snapper's memory grew {growthMb:F1} MB after warm-up: {string.Join(", ", settled.Select(k => k / 1024))} MB");
        Assert.True(after / before > 0.85, $"the target does {after / before:P0} of the work it did before the capture");
        var profile = ProfileQueries.LoadLatest(dir.File("s.db"));
        Assert.True(profile.Session.SnapshotCount > 0.5 * 100 * Length.TotalSeconds, $"{profile.Session.SnapshotCount} snapshots in {Length.TotalSeconds} s");
    }

    /// <summary>Work units per second over a window, unsampled ("WORK n" answers on stdin).</summary>
    static double WorkRate(RunningTarget target)
    {
        var (start, clock) = (Work(target), Stopwatch.StartNew());
        Thread.Sleep(Window);
        return (Work(target) - start) / clock.Elapsed.TotalSeconds;
    }

    static long Work(RunningTarget target)
    {
        target.Process.StandardInput.WriteLine("?");
        target.Process.StandardInput.Flush();
        return long.Parse(target.Process.StandardOutput.ReadLine()!.Split(' ')[1], CultureInfo.InvariantCulture);
    }

    static long? ResidentKb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null; // exited between the check and the read
        }
    }
}
