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
}
