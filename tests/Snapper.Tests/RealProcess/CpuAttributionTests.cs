using System.Diagnostics;
using System.Globalization;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// CPU time is conserved and charged by the rule of docs/threads-and-cpu.md (issue 17): a thread's samples carry all the CPU it used
/// between its first and last sample, none of it on a stack it was blocked in. The bursty target's dedicated thread
/// spins 3 ms every 50 ms: at 100 Hz most bursts fall between two snapshots, each of which finds it asleep, in
/// Thread.Sleep ("sleep") or in Monitor.Wait ("lock/wait": asleep, as the kernel's run state says, not a thread running
/// in a system call Snapper cannot name).
/// </summary>
public sealed class CpuAttributionTests
{
    [Theory]
    [InlineData("sleep")]
    [InlineData("monitor")]
    public void A_bursty_threads_cpu_is_all_in_its_samples_and_none_on_the_stack_it_sleeps_in(string waitsIn)
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("bursts", waitsIn);
        var db = dir.File("cpu.db");
        // Parked while the capture starts and after it has seen the thread parked again, so every nanosecond the thread
        // runs lies between its first and last sample.
        target.Ask("HOLD");
        var capture = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--rate", "100", "--duration", "10m",
            "--db", db, "--no-report", "--quiet"))!;
        (int Tid, long Ns) before, after;
        SnapperCli.Result result;
        try
        {
            SampleCommandTests.WaitForStoredSamples(db, 20);
            before = Cpu(target);
            target.Ask("RUN");
            Thread.Sleep(TimeSpan.FromSeconds(8));
            target.Ask("HOLD");
            after = Cpu(target);
            SampleCommandTests.WaitForStoredSamples(db, (int)KillSafetyTests.StoredSnapshots(db) + 30);
            Assert.Equal(0, Native.Kill(capture.Id, Native.SIGINT));
            result = SnapperCli.Wait(capture, TimeSpan.FromMinutes(2));
        }
        finally
        {
            if (!capture.HasExited) capture.Kill();
        }
        Assert.True(result.ExitCode == 0, result.ToString());

        var profile = ProfileQueries.LoadLatest(db);
        var thread = Assert.Single(profile.Threads, t => t.OsThreadId == before.Tid);
        var samples = profile.Samples.Where(s => s.ThreadId == thread.Id).ToList();
        var used = after.Ns - before.Ns;
        var carried = samples.Sum(s => s.CpuNs);
        // Stored in microseconds a sample: up to 0.5 us off each.
        var rounding = samples.Count * 500L + 100_000;
        Assert.True(Math.Abs(carried - used) <= rounding,
            $"the thread ran {Ms(used)} between the reads; its {samples.Count} samples carry {Ms(carried)}");

        bool InBurst(Sample s) => profile.FramesOf(s.StackId).Any(f => profile.Frames[f].MethodName == "DedicatedBurst");
        bool Between(Sample s) => s.Activity == SampleActivity.BetweenSamples;
        var onBlockedStacks = samples.Where(s => s.State is SampleState.Sleep or SampleState.Io or SampleState.IdleThreadPool or SampleState.LockWait)
            .Sum(s => s.CpuNs);
        var inBursts = samples.Where(InBurst).Sum(s => s.CpuNs);
        var between = samples.Where(Between).Sum(s => s.CpuNs);
        var detail = $"in bursts {Ms(inBursts)}, between samples {Ms(between)}, on blocked stacks {Ms(onBlockedStacks)}, of {Ms(carried)}";
        Assert.True(onBlockedStacks == 0, detail);
        Assert.True(inBursts > 0 && between > 0, detail);
        var waitState = waitsIn == "sleep" ? SampleState.Sleep : SampleState.LockWait;
        Assert.True(samples.Count(s => s.State == waitState) > samples.Count / 2, $"the thread waits in {waitState.Name()} most of the time");
        Assert.True(samples.Where(Between).All(s => s.State == SampleState.Cpu && s.Wall == 0), "a CPU-only sample counted as a sighting");
        Assert.Equal(profile.Samples.Count(s => s.Wall == 1), (int)profile.Session.SampleCount);
    }

    static string Ms(long ns) => (ns / 1e6).ToString("0.000", CultureInfo.InvariantCulture) + " ms";

    static (int Tid, long Ns) Cpu(RunningTarget target)
    {
        var parts = target.Ask("CPU").Split(' ');
        return (int.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
    }

}
