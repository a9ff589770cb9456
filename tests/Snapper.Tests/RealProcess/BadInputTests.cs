using System.Diagnostics;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Targets and stores Snapper must refuse, each with one line and a documented exit code, losing nothing stored
/// before; and a store that fills its disk mid-capture, which must end the capture cleanly with the target running.
/// </summary>
public sealed class BadInputTests
{
    [Fact]
    public void Pid_zero_and_pid_one_are_refused_clearly()
    {
        using var dir = new TempDirectory();
        CliErrorTests.AssertError(SnapperCli.Run("sample", "--pid", "0", "--db", dir.File("s.db")), 2, "--pid must be a positive process id");
        // pid 1 is init (or a container's first process): never a .NET process Snapper may read here.
        var init = SnapperCli.Run("sample", "--pid", "1", "--db", dir.File("s.db"), "--count", "1");
        Assert.True(init.ExitCode is 4 or 5, init.ToString());
        Assert.StartsWith("error: ", init.Stderr);
    }

    [Fact]
    public void A_kernel_thread_is_refused_as_not_dotnet()
    {
        using var dir = new TempDirectory();
        // kthreadd, pid 2 on Linux: the parent of every kernel thread, with no memory map of its own.
        Assert.Equal("kthreadd", File.ReadAllText("/proc/2/comm").Trim());
        CliErrorTests.AssertError(SnapperCli.Run("sample", "--pid", "2", "--db", dir.File("s.db"), "--count", "1"), 4,
            "is a kernel thread, not a .NET process");
    }

    [Fact]
    public void A_zombie_is_refused_as_gone()
    {
        using var dir = new TempDirectory();
        // A parent that never waits for its child, which exits at once: a zombie until the parent goes. (A shell
        // would reap it.)
        using var parent = Process.Start(new ProcessStartInfo("python3", ["-c",
            "import os, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)"]) { RedirectStandardOutput = true })!;
        try
        {
            var zombie = int.Parse(parent.StandardOutput.ReadLine()!);
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (!File.ReadAllText($"/proc/{zombie}/stat").Contains(") Z ") && DateTime.UtcNow < deadline) Thread.Sleep(10);
            CliErrorTests.AssertError(SnapperCli.Run("sample", "--pid", zombie.ToString(), "--db", dir.File("s.db")), 3, "zombie");
        }
        finally
        {
            parent.Kill();
            parent.WaitForExit();
        }
    }

    [Fact]
    public void A_truncated_store_or_a_directory_is_a_database_error_and_nothing_else_is_touched()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var good = dir.File("good.db");
        Assert.Equal(0, SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "200", "--db", good, "--no-report", "--quiet").ExitCode);
        SnapperCli.Run("sessions", "--db", good); // checkpoints the write-ahead log into the file
        var truncated = dir.File("truncated.db");
        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        var report = SnapperCli.Run("report", "--db", truncated, "--format", "text");
        Assert.True(report.ExitCode == 8, report.ToString());
        Assert.Single(report.Stderr.Trim().Split('\n'));
        Directory.CreateDirectory(dir.File("dir.db"));
        CliErrorTests.AssertError(SnapperCli.Run("sessions", "--db", dir.File("dir.db")), 8, "dir.db");
        Assert.Equal(0, SnapperCli.Run("report", "--db", good, "--format", "text").ExitCode); // the intact copy still reads
    }

    [Fact]
    public void A_full_disk_ends_the_capture_cleanly_keeping_what_was_stored_and_the_target_running()
    {
        Assert.True(File.Exists("/usr/bin/unshare"), "unshare (util-linux) is required for this test");
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var mount = Directory.CreateDirectory(dir.File("tiny")).FullName;
        // A 300 KB filesystem, in a mount namespace of Snapper's own: the store fills it within seconds at 500 Hz.
        var info = new ProcessStartInfo("/usr/bin/unshare",
            ["--mount", "--propagation", "private", "/bin/sh", "-c",
             "mount -t tmpfs -o size=300k tmpfs \"$1\" && \"$2\" \"$3\" sample --pid \"$4\" --rate 500 --duration 60s --db \"$1/s.db\" --no-report --quiet; " +
             "code=$?; cp \"$1/s.db\" \"$5\" 2>/dev/null; cp \"$1/s.db-wal\" \"$5-wal\" 2>/dev/null; exit $code",
             "sh", mount, Dotnet.Host, Path.Combine(AppContext.BaseDirectory, "snapper.dll"), target.Pid.ToString(), dir.File("copy.db")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var run = SnapperCli.Wait(Process.Start(info)!, TimeSpan.FromMinutes(2));

        Assert.True(run.ExitCode == 8, run.ToString());
        var lines = run.Stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.Contains("full", lines[0], StringComparison.OrdinalIgnoreCase);
        Assert.False(target.AnyThreadStopped(), "the target was left stopped");
        Assert.False(target.Process.HasExited, "the target died");
        using var store = SnapperDatabase.Open(dir.File("copy.db"), create: false);
        var session = Assert.Single(SessionQueries.List(store));
        Assert.True(ProfileReader.Load(store, session).Snapshots.Count > 0, "nothing stored before the disk filled was kept");
    }
}
