using System.Diagnostics;
using Snapper.Sampling.Linux;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Snapper inside a container's PID namespace, with its target: the kernel's task iterator numbers threads as the
/// initial namespace does, not as /proc and ptrace do in there. Snapper must notice and read /proc instead, not
/// take the target for gone (or stop threads by numbers that are not theirs).
/// </summary>
public sealed class PidNamespaceTests
{
    [Fact]
    public void Snapper_in_a_pid_namespace_samples_a_target_there()
    {
        Assert.True(File.Exists("/usr/bin/unshare"), "unshare (util-linux) is required for this test");
        using var dir = new TempDirectory();
        var db = dir.File("s.db");
        // Inside: start the target, wait for its READY line, sample it, end it. The shell is pid 1 there.
        const string Script = """
            "$1" "$2" mixed > "$4" & target=$!
            for i in $(seq 600); do grep -q READY "$4" 2>/dev/null && break; sleep 0.1; done
            SNAPPER_DEBUG=1 "$1" "$3" sample --pid $target --count 20 --db "$5" --no-report --max-overhead off; code=$?
            kill -9 $target; exit $code
            """;
        var info = new ProcessStartInfo("/usr/bin/unshare",
            ["--pid", "--fork", "--mount-proc", "/bin/sh", "-c", Script, "sh", Dotnet.Host,
             Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll"), Path.Combine(AppContext.BaseDirectory, "snapper.dll"),
             dir.File("target.out"), db])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var result = SnapperCli.Wait(process, TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("threads are read from /proc", result.Stderr);
        Assert.Contains("20 samples", result.Stdout);
        var stacks = ProfileQueries.StacksOf(ProfileQueries.LoadLatest(db), "Recursor");
        Assert.Equal(20, stacks.Count);
        Assert.All(stacks, s => Assert.Equal(21, s.Count(f => f.DisplayName == "Snapper.TestTarget.Recursor.Recurse")));
    }

    /// <summary>
    /// A target in a PID namespace of its own, sampled from outside it (the host's view of a container): its runtime
    /// knows its threads by the namespace's ids, which are not the host's. Snapper once took 30 snapshots of no thread
    /// and exited 0, then refused such targets; it must sample them as it samples any other, under the host's ids, and
    /// `dump` must name lock holders by the host's ids too.
    /// </summary>
    [Fact]
    public void A_target_in_its_own_pid_namespace_is_sampled_from_outside_it()
    {
        Assert.True(File.Exists("/usr/bin/unshare"), "unshare (util-linux) is required for this test");
        using var dir = new TempDirectory();
        var output = dir.File("target.out");
        var info = new ProcessStartInfo("/usr/bin/unshare",
            ["--pid", "--fork", "--mount-proc", Dotnet.Host, Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll"), "locks"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var unshare = Process.Start(info)!;
        try
        {
            var ready = unshare.StandardOutput.ReadLine();
            Assert.True(ready?.StartsWith("READY", StringComparison.Ordinal) == true, $"the target did not start: {ready}");
            // The target is unshare's child: its host pid.
            var children = File.ReadAllText($"/proc/{unshare.Id}/task/{unshare.Id}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var hostPid = int.Parse(Assert.Single(children), System.Globalization.CultureInfo.InvariantCulture);
            var pid = hostPid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var db = dir.File("s.db");

            var result = SnapperCli.Run("sample", "--pid", pid, "--count", "20", "--db", db, "--no-report", "--max-overhead", "off");

            Assert.True(result.ExitCode == 0, result.ToString());
            var profile = ProfileQueries.LoadLatest(db);
            var stacks = ProfileQueries.StacksOf(profile, "Stock waiter 1");
            Assert.Equal(20, stacks.Count);
            Assert.All(stacks, s => Assert.Contains(s, f => f.DisplayName == "Snapper.TestTarget.LockWaiters.EnterMonitor"));
            // Threads are kept under the host's ids, the ones top and /proc show on the host.
            var hostTids = ProcFs.ListThreads(hostPid).ToHashSet();
            Assert.All(profile.Threads, t => Assert.Contains(t.OsThreadId, hostTids));

            // A System.Threading.Lock keeps its holder's id as the namespace knows it: named by the host's id all the same.
            var dump = SnapperCli.Run("dump", "--pid", pid);
            Assert.True(dump.ExitCode == 0, dump.ToString());
            var holder = ProcFs.ListThreads(hostPid).Single(tid => ProcFs.ReadThreadComm(hostPid, tid) == "Payments holder");
            Assert.Contains($"held by thread {holder} \"Payments holder\"", dump.Stdout);
            // 'ps' offers it, as a process in a container.
            var ps = SnapperCli.Run("ps");
            Assert.Contains(ps.Stdout.Split('\n'), line => line.Contains(pid) && line.Contains("ok (in a container)"));
            Assert.False(ProcFs.ListThreads(hostPid).Any(tid => ProcFs.ReadThreadState(hostPid, tid) is 'T' or 't'), "a thread was left stopped");
        }
        finally
        {
            unshare.Kill(entireProcessTree: true); // the target with it: unshare's child, pid 1 of the namespace
            unshare.WaitForExit();
        }
    }
}
