using System.Diagnostics;
using System.Text.Json;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Who each thread is and what it is doing, on a real process: managed names (also one given while Snapper watches),
/// the state of each kind of thread, CPU time from the kernel's counters, and the thread filters.
/// </summary>
public sealed class ThreadIdentityTests
{
    /// <param name="minSamples">The attach engine takes a few dozen samples a second at most.</param>
    [Theory]
    [InlineData("ptrace", 100)]
    [InlineData("attach", 20)]
    public void Every_thread_shows_its_managed_name_and_its_state_and_the_spinner_has_the_cpu(string engine, int minSamples)
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("states");
        var db = dir.File("s.db");

        var capture = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--duration", "4s", "--db", db, "--no-report", "--engine", engine))!;
        Thread.Sleep(1500); // Snapper has seen the unnamed thread by now
        target.Process.StandardInput.WriteLine("rename");
        target.Process.StandardInput.Flush();
        Assert.Equal("RENAMED", target.Process.StandardOutput.ReadLine());
        var result = SnapperCli.Wait(capture, TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, result.ToString());

        var profile = ProfileQueries.LoadLatest(db);
        var expected = new Dictionary<string, SampleState>
        {
            ["Busy spinner"] = SampleState.Cpu,
            ["Sleepy"] = SampleState.Sleep,
            ["Socket reader"] = SampleState.Io,
            ["Native caller"] = SampleState.Sleep,
            ["Late named waiter"] = SampleState.LockWait,
            ["Renamed while watched"] = SampleState.LockWait,
        };
        foreach (var (name, state) in expected) ProfileQueries.AssertMostlyIn(profile, name, state, minSamples);
        // The syscall behind each state is recorded too.
        Assert.Contains(ProfileQueries.SamplesOf(profile, "Socket reader"), s => SyscallNames.Name(profile.Session.Target.Architecture, s.Syscall) == "recvmsg");
        Assert.Contains(ProfileQueries.SamplesOf(profile, "Native caller"), s => SyscallNames.Name(profile.Session.Target.Architecture, s.Syscall) == "clock_nanosleep");

        var finalizer = Assert.Single(profile.Threads, t => t.Role == "finalizer");
        Assert.True(ProfileQueries.SamplesOf(profile, finalizer).All(s => s.State == SampleState.IdleThreadPool), "the finalizer waiting for work is idle");
        Assert.Contains(profile.Threads, t => t.Role == "main thread" && t.OsThreadId == target.Pid);

        // CPU time comes from the kernel's per-thread counters: the spinner used nearly all of it. Not so under the
        // attach engine, whose every sample wakes each blocked thread (ClrMD attaches to them one by one): that CPU is
        // real, and caused by the observer.
        if (engine == "attach") return;
        var cpuByThread = profile.Samples.GroupBy(s => s.ThreadId).ToDictionary(g => g.Key, g => g.Sum(s => s.CpuNs));
        var spinner = profile.Threads.Single(t => t.Name == "Busy spinner");
        var cpuShare = cpuByThread[spinner.Id] * 1.0 / cpuByThread.Values.Sum();
        Assert.True(cpuShare >= 0.95, $"the spinner has {cpuShare:P1} of the CPU time");
        // It ran (how much depends on what else the machine runs; the share is the fact under test).
        Assert.True(cpuByThread[spinner.Id] > 200_000_000, $"the spinner used only {cpuByThread[spinner.Id] / 1e6} ms of CPU in 4 s");
    }

    [Fact]
    public void A_70_30_cpu_split_between_two_methods_comes_out_within_3_points()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("split");
        var db = dir.File("s.db");

        // 2,000 samples: the statistical error of a 70% share is then about 1 point.
        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--rate", "200", "--count", "2000", "--db", db,
            "--no-report", "--threads", "^Splitter$");
        Assert.True(result.ExitCode == 0, result.ToString());

        var profile = ProfileQueries.LoadLatest(db);
        var samples = ProfileQueries.SamplesOf(profile, "Splitter").Select(s => (Sample: s, Method: LeafMethodOf(profile, s))).ToList();
        long Cpu(string method) => samples.Where(s => s.Method == method).Sum(s => s.Sample.CpuNs);
        long Wall(string method) => samples.Count(s => s.Method == method);
        var cpuShare = 100.0 * Cpu("Seventy") / (Cpu("Seventy") + Cpu("Thirty"));
        var wallShare = 100.0 * Wall("Seventy") / (Wall("Seventy") + Wall("Thirty"));
        Assert.True(Math.Abs(cpuShare - 70) <= 3, $"CPU-weighted: {cpuShare:0.0}% in Seventy");
        Assert.True(Math.Abs(wallShare - 70) <= 3, $"wall clock: {wallShare:0.0}% in Seventy");
        Assert.All(profile.Threads, t => Assert.Equal("Splitter", t.Name)); // --threads kept only it
    }

    [Fact]
    public void Report_filters_threads_and_leaves_idle_samples_out_unless_asked()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("states");
        var db = dir.File("s.db");
        var sampled = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "30", "--db", db, "--no-report");
        Assert.True(sampled.ExitCode == 0, sampled.ToString());

        using var plain = Json(SnapperCli.Run("report", "--db", db, "--format", "json"));
        using var idle = Json(SnapperCli.Run("report", "--db", db, "--format", "json", "--idle"));
        var hidden = plain.RootElement.GetProperty("view").GetProperty("hiddenIdleSamples").GetInt64();
        Assert.True(hidden >= 30, $"{hidden} idle samples hidden; the finalizer alone has 30");
        Assert.Equal(plain.RootElement.GetProperty("view").GetProperty("samples").GetInt64() + hidden,
            idle.RootElement.GetProperty("view").GetProperty("samples").GetInt64());

        using var one = Json(SnapperCli.Run("report", "--db", db, "--format", "json", "--threads", "^Sleep"));
        var thread = Assert.Single(one.RootElement.GetProperty("threads").EnumerateArray());
        Assert.Equal("Sleepy", thread.GetProperty("name").GetString());
        Assert.Equal(30, thread.GetProperty("states").GetProperty("sleep").GetInt64());

        var text = SnapperCli.Run("report", "--db", db, "--format", "text", "--threads", "(?i)busy");
        Assert.Contains("Busy spinner", text.Stdout);
        Assert.DoesNotContain("Sleepy", text.Stdout);

        var bad = SnapperCli.Run("report", "--db", db, "--threads", "(unclosed");
        Assert.Equal(2, bad.ExitCode);
        Assert.StartsWith("error: --threads '(unclosed' is not a valid regular expression", bad.Stderr);
        Assert.Single(bad.Stderr.Trim().Split('\n'));
    }

    static JsonDocument Json(SnapperCli.Result result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout);
    }

    /// <summary>"Seventy" or "Thirty" when the sample is inside one of the split's two methods, else null.</summary>
    static string? LeafMethodOf(Profile profile, Sample sample)
    {
        var frames = profile.FramesOf(sample.StackId).Select(id => profile.Frames[id]).ToList();
        return frames.LastOrDefault(f => f.TypeName == "Snapper.TestTarget.Split" && f.MethodName is "Seventy" or "Thirty")?.MethodName;
    }
}
