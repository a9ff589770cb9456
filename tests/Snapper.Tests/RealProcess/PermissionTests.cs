using System.Diagnostics;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>Without ptrace rights, one clear line that says what is needed; run as an unprivileged user.</summary>
public sealed class PermissionTests
{
    [Fact]
    public void An_unprivileged_user_is_told_ptrace_needs_root_or_CAP_SYS_PTRACE()
    {
        if (Environment.UserName != "root")
        {
            // The test needs root to switch to an unprivileged user; under CI (root) it always runs.
            Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "CI must run the tests as root");
            return;
        }
        Assert.True(File.Exists("/usr/bin/setpriv"), "setpriv (util-linux) is required for this test");
        using var dir = new TempDirectory();
        File.SetUnixFileMode(dir.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
            UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
        using var target = RunningTarget.StartTestTarget("mixed");

        var info = new ProcessStartInfo("/usr/bin/setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", Dotnet.Host, Path.Combine(AppContext.BaseDirectory, "snapper.dll"),
             "sample", "--pid", target.Pid.ToString(), "--db", Path.Combine(dir.Path, "s.db"), "--count", "5"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["HOME"] = dir.Path;
        info.Environment["DOTNET_CLI_HOME"] = dir.Path;
        using var snapper = Process.Start(info)!;
        var result = SnapperCli.Wait(snapper, TimeSpan.FromMinutes(1));

        Assert.True(result.ExitCode == 5, result.ToString());
        Assert.Contains("error: permission denied", result.Stderr);
        Assert.Contains("CAP_SYS_PTRACE", result.Stderr);
        Assert.False(target.AnyThreadStopped());
    }
}
