using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>`snapper sample` against a real target, on both engines: frames in order, statistics, and a running target afterwards.</summary>
public sealed class SampleCommandTests
{
    [Theory]
    [InlineData("ptrace", 60)]
    [InlineData("attach", 12)]
    public void Samples_every_thread_with_frames_in_order(string engine, int count)
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var db = dir.File("s.db");
        var report = dir.File("r.html");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", count.ToString(), "--rate", "50",
            "--engine", engine, "--db", db, "--report", report);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Report:", result.Stdout);
        Assert.True(File.Exists(report));
        Assert.False(target.AnyThreadStopped(), "the target was left stopped");
        Assert.False(target.Process.HasExited);

        var profile = ProfileQueries.LoadLatest(db);
        Assert.Equal(count, profile.Session.SnapshotCount);
        Assert.Equal(SessionEndReason.CountReached, profile.Session.EndReason);
        // Managed names in full, beyond the 15 characters an OS thread name can hold.
        foreach (var name in new[] { "Spinner", "Recursor", "NativeSleeper", "Waiter", "Order pipeline: settlement worker #1" })
            Assert.Equal(count, ProfileQueries.StacksOf(profile, name).Count);

        // The 20-deep recursion appears whole, in order, outermost first: Recurse(20) ... Recurse(0) then the wait.
        foreach (var stack in ProfileQueries.StacksOf(profile, "Recursor"))
        {
            var names = stack.Select(f => f.DisplayName).ToList();
            var first = names.IndexOf("Snapper.TestTarget.Recursor.Recurse");
            Assert.True(first >= 0, ProfileQueries.Describe(stack));
            Assert.Equal(21, names.Skip(first).TakeWhile(n => n == "Snapper.TestTarget.Recursor.Recurse").Count());
            Assert.Contains(names.Skip(first + 21), n => n.Contains("Monitor", StringComparison.Ordinal));
        }

        // A spinning thread is caught in its spin method (>= 90% of its samples, as a leaf managed frame).
        var spins = ProfileQueries.StacksOf(profile, "Spinner");
        var inSpin = spins.Count(s => s.LastOrDefault(f => f.Kind == FrameKind.Managed)?.DisplayName == "Snapper.TestTarget.Spinner.Spin");
        Assert.True(inSpin >= 0.9 * spins.Count, $"{inSpin} of {spins.Count} spinner samples in Spin");

        // A thread blocked in a P/Invoke shows the transition frame for the native function, above its caller.
        var native = ProfileQueries.StacksOf(profile, "NativeSleeper");
        var withTransition = native.Count(s =>
        {
            var names = s.Select(f => f.DisplayName).ToList();
            var run = names.IndexOf("Snapper.TestTarget.NativeSleeper.Run");
            return run >= 0 && names.Skip(run + 1).Any(n => n == "libc!usleep") && s[^1].Kind == FrameKind.Transition;
        });
        Assert.True(withTransition >= 0.9 * native.Count, $"{withTransition} of {native.Count}: {ProfileQueries.Describe(native[0])}");
    }

    [Theory]
    [InlineData(Native.SIGINT)]
    [InlineData(Native.SIGTERM)]
    public async Task Ctrl_C_or_SIGTERM_keeps_the_samples_writes_the_report_and_leaves_the_target_running(int signal)
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var db = dir.File("s.db");
        var report = dir.File("r.html");
        using var snapper = System.Diagnostics.Process.Start(SnapperCli.StartInfo(
            "sample", "--pid", target.Pid.ToString(), "--duration", "5m", "--rate", "100", "--db", db, "--report", report))!;
        var stdout = snapper.StandardOutput.ReadToEndAsync();
        var stderr = snapper.StandardError.ReadToEndAsync();

        WaitForStoredSamples(db, atLeast: 20);
        Assert.Equal(0, Native.Kill(snapper.Id, signal));
        Assert.True(snapper.WaitForExit(30_000), $"snapper did not stop on signal {signal}");

        Assert.True(snapper.ExitCode == 0, $"exit {snapper.ExitCode}: {await stderr}");
        Assert.True(File.Exists(report), await stdout);
        var profile = ProfileQueries.LoadLatest(db);
        Assert.Equal(SessionEndReason.Interrupted, profile.Session.EndReason);
        Assert.True(profile.Session.SnapshotCount >= 20);
        Assert.False(target.AnyThreadStopped(), "the target was left stopped");
        Assert.False(target.Process.HasExited);
    }

    [Fact]
    public void Target_exit_mid_capture_keeps_the_samples_and_says_so()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("exit-after", "4000");
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--duration", "60s", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 7, result.ToString());
        Assert.StartsWith("error: ", result.Stderr.Trim());
        var profile = ProfileQueries.LoadLatest(db);
        Assert.Equal(SessionEndReason.TargetExited, profile.Session.EndReason);
        Assert.True(profile.Session.SnapshotCount > 10, $"{profile.Session.SnapshotCount} samples kept");
    }

    internal static void WaitForStoredSamples(string db, int atLeast)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(db))
            {
                try
                {
                    using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
                    connection.Open();
                    using var command = connection.CreateCommand();
                    command.CommandText = "SELECT count(*) FROM snapshots";
                    if (Convert.ToInt64(command.ExecuteScalar()) >= atLeast) return;
                }
                catch (Microsoft.Data.Sqlite.SqliteException)
                {
                    // not created yet
                }
            }
            Thread.Sleep(100);
        }
        throw new TimeoutException($"fewer than {atLeast} samples stored in {db} after 60 s");
    }
}

public sealed class DemoCommandTests
{
    [Fact]
    public void Demo_writes_store_and_report_and_leaves_no_target_behind()
    {
        using var dir = new TempDirectory();
        var before = DemoTargets();
        var result = SnapperCli.Run("demo", "--db", dir.File("demo.db"), "--report", dir.File("demo.html"), "--count", "50");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Database: {dir.File("demo.db")}", result.Stdout);
        Assert.Contains($"Report:   {dir.File("demo.html")}", result.Stdout);
        var profile = ProfileQueries.LoadLatest(dir.File("demo.db"));
        Assert.Equal(50, profile.Session.SnapshotCount);
        foreach (var name in new[] { "PriceCalculator", "ReportBuilder", "InventoryWaiter", "AuditSleeper", "NativeClock", "SocketReader" })
            Assert.Equal(50, ProfileQueries.StacksOf(profile, name).Count);
        var html = File.ReadAllText(dir.File("demo.html"));
        Assert.Contains("DemoTarget.PriceCalculator", html);
        Assert.Contains("ReportBuilder&lt;", html); // the generic type name, escaped
        Assert.Empty(DemoTargets().Except(before));
    }

    static List<int> DemoTargets() => Directory.GetDirectories("/proc")
        .Select(Path.GetFileName)
        .Where(n => int.TryParse(n, out _))
        .Select(n => int.Parse(n!))
        .Where(pid =>
        {
            try { return File.ReadAllText($"/proc/{pid}/cmdline").Contains("DemoTarget.dll") && File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2] != "Z"; }
            catch (IOException) { return false; }
        })
        .ToList();
}
