using System.Diagnostics;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>Every failure a user can meet: one "error:" line on stderr, a documented exit code, no stack trace.</summary>
public sealed class CliErrorTests
{
    internal static void AssertError(SnapperCli.Result result, int exitCode, string fragment)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.ToString());
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(fragment, lines[0]);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void No_such_process() =>
        AssertError(SnapperCli.Run("sample", "--pid", "4194303", "--no-report", "--db", Path.GetTempFileName()), 3, "no process with pid 4194303");

    [Fact]
    public void Not_a_dotnet_process()
    {
        using var dir = new TempDirectory();
        using var sleeper = Process.Start("sleep", "60");
        try
        {
            AssertError(SnapperCli.Run("sample", "--pid", sleeper.Id.ToString(), "--db", dir.File("s.db")), 4, "not a .NET process");
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Fact]
    public void Already_traced_by_another_tracer()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        // A tracer that seizes the target (without stopping it) and holds on, as a debugger would.
        var tracerScript = $"import ctypes,time,sys\nlibc=ctypes.CDLL(None,use_errno=True)\nr=libc.ptrace(0x4206,{target.Pid},0,0)\nprint('READY' if r==0 else 'FAILED',flush=True)\ntime.sleep(120)";
        using var tracer = RunningTarget.StartAndWait(new ProcessStartInfo("python3", ["-c", tracerScript]) { RedirectStandardOutput = true });
        AssertError(SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--db", dir.File("s.db")), 6, "already traced by pid");
        Assert.False(File.Exists(dir.File("s.db-session-1.html")));
    }

    [Theory]
    [InlineData("--count", "0", "--count must be a positive number")]
    [InlineData("--count", "-5", "--count must be a positive number")]
    [InlineData("--rate", "0", "--rate must be between")]
    [InlineData("--rate", "100000", "--rate must be between")]
    [InlineData("--interval", "fast", "is not a duration")]
    [InlineData("--duration", "10 parsecs", "is not a duration")]
    [InlineData("--max-frames", "0", "--max-frames must be between")]
    [InlineData("--engine", "turbo", "turbo")]
    public void Invalid_option_values(string option, string value, string fragment) =>
        AssertError(SnapperCli.Run("sample", "--pid", Environment.ProcessId.ToString(), option, value), 2, fragment);

    [Fact]
    public void An_unknown_command_is_named() =>
        AssertError(SnapperCli.Run("smaple", "--pid", "3"), 2, "Unrecognized command or argument 'smaple'");

    [Fact]
    public void No_command_shows_help()
    {
        var result = SnapperCli.Run();
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Usage:", result.Stdout);
        Assert.Contains("sample", result.Stdout);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public void A_mistyped_option_is_named_not_taken_for_a_command() =>
        AssertError(SnapperCli.Run("sample", "--pid", "1", "--store", "x.db"), 2, "unknown option '--store'");

    [Fact]
    public void Rate_and_interval_together() =>
        AssertError(SnapperCli.Run("sample", "--pid", "1", "--rate", "10", "--interval", "10ms"), 2, "either --rate or --interval");

    [Fact]
    public void Own_pid_is_refused()
    {
        // Snapper's own pid is only known inside it; pid 1 of the test's namespace is never a .NET we may sample either.
        var result = SnapperCli.Run("sample", "--pid", "0");
        AssertError(result, 2, "positive process id");
    }

    [Fact]
    public void Database_in_a_missing_directory()
    {
        using var target = RunningTarget.StartTestTarget("mixed");
        AssertError(SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--db", "/nonexistent-dir/s.db"), 8, "does not exist");
        Assert.False(target.AnyThreadStopped());
    }

    [Fact]
    public void Report_in_a_missing_directory_fails_before_sampling()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        AssertError(SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--db", dir.File("s.db"), "--report", "/nonexistent-dir/r.html"), 9, "does not exist");
        Assert.False(File.Exists(dir.File("s.db")));
    }

    [Fact]
    public void Report_of_a_missing_database() =>
        AssertError(SnapperCli.Run("report", "--db", "/tmp/definitely-not-here-snapper.db"), 8, "does not exist");

    [Fact]
    public void Report_of_a_missing_session()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var db = dir.File("s.db");
        Assert.Equal(0, SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "3", "--db", db, "--no-report").ExitCode);
        AssertError(SnapperCli.Run("report", "--db", db, "--session", "42"), 10, "no session 42");
        AssertError(SnapperCli.Run("report", "--db", db, "--session", "yesterday"), 2, "--session must be");
    }

    [Fact]
    public void A_file_that_is_not_a_database()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("junk.db"), new string('x', 5000));
        AssertError(SnapperCli.Run("sessions", "--db", dir.File("junk.db")), 8, "not a SQLite database");
    }
}

public sealed class TwoSnappersTests
{
    [Fact]
    public void A_second_snapper_on_the_same_target_fails_and_the_first_is_undisturbed()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var firstDb = dir.File("first.db");
        using var first = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--duration", "8s", "--db", firstDb, "--no-report"))!;
        SampleCommandTests.WaitForStoredSamples(firstDb, atLeast: 5);

        // From another TMPDIR, as a systemd unit with PrivateTmp would run it: the lock is not in TMPDIR.
        using var otherTmp = new TempDirectory();
        var info = SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--count", "5", "--db", dir.File("second.db"), "--no-report");
        info.Environment["TMPDIR"] = otherTmp.Path;
        using var secondProcess = Process.Start(info)!;
        var second = SnapperCli.Wait(secondProcess, TimeSpan.FromMinutes(2));

        Assert.True(second.ExitCode == 6, second.ToString());
        Assert.Contains("another Snapper is already sampling", second.Stderr);
        var firstResult = SnapperCli.Wait(first, TimeSpan.FromMinutes(1));
        Assert.True(firstResult.ExitCode == 0, firstResult.ToString());
        var profile = ProfileQueries.LoadLatest(firstDb);
        Assert.Equal(Snapper.Store.SessionEndReason.DurationReached, profile.Session.EndReason);
        // Undisturbed: it ran its course. (A snapshot can fail on a busy machine when a thread is slow to stop.)
        Assert.True(profile.Session.FailedCount <= profile.Session.SnapshotCount / 20, $"{profile.Session.FailedCount} of {profile.Session.SnapshotCount} snapshots failed");
        Assert.False(target.AnyThreadStopped());
    }
}
