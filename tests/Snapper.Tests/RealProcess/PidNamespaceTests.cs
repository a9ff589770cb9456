using System.Diagnostics;
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
    /// and exited 0; it must fail with a line that says why and what to do.
    /// </summary>
    [Fact]
    public void A_target_in_its_own_pid_namespace_sampled_from_outside_fails_with_what_to_do()
    {
        Assert.True(File.Exists("/usr/bin/unshare"), "unshare (util-linux) is required for this test");
        using var dir = new TempDirectory();
        var output = dir.File("target.out");
        var info = new ProcessStartInfo("/usr/bin/unshare",
            ["--pid", "--fork", "--mount-proc", Dotnet.Host, Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll"), "mixed"])
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

            var result = SnapperCli.Run("sample", "--pid", hostPid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--count", "5",
                "--db", dir.File("s.db"), "--no-report");

            Assert.Equal(4, result.ExitCode);
            Assert.Contains("runs in a PID namespace of its own", result.Stderr);
            Assert.Contains("it is pid 1 there", result.Stderr);
            Assert.DoesNotContain("   at ", result.Stderr); // one line, no stack trace
            var dump = SnapperCli.Run("dump", "--pid", hostPid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(4, dump.ExitCode);
            // And 'ps' does not offer it as one to sample.
            var ps = SnapperCli.Run("ps");
            Assert.Contains(ps.Stdout.Split('\n'), line => line.Contains(hostPid.ToString(System.Globalization.CultureInfo.InvariantCulture))
                && line.Contains("in a PID namespace of its own (pid 1 there)"));
        }
        finally
        {
            unshare.Kill(entireProcessTree: true); // the target with it: unshare's child, pid 1 of the namespace
            unshare.WaitForExit();
        }
    }
}
