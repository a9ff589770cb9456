using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Without ptrace rights, one clear line that says which privilege is missing and how to give it: run as an unprivileged
/// user, and as root without CAP_SYS_PTRACE (what a container started without the capability is).
/// </summary>
public sealed class PermissionTests
{
    [SkippableFact]
    public void An_unprivileged_user_is_told_ptrace_needs_root_or_CAP_SYS_PTRACE()
    {
        Unprivileged.Require();
        using var dir = new TempDirectory();
        Unprivileged.OpenToEveryone(dir.Path);
        using var target = RunningTarget.StartTestTarget("mixed");

        var result = Unprivileged.Run(dir.Path, "sample", "--pid", target.Pid.ToString(), "--db", Path.Combine(dir.Path, "s.db"), "--count", "5");

        Assert.True(result.ExitCode == 5, result.ToString());
        Assert.Contains("error: permission denied", result.Stderr);
        Assert.Contains("CAP_SYS_PTRACE", result.Stderr);
        Assert.False(target.AnyThreadStopped());
    }

    [SkippableFact]
    public void Root_without_CAP_SYS_PTRACE_is_told_to_give_Snapper_the_capability()
    {
        Unprivileged.Require(); // root, and setpriv to drop the capability with
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var info = new System.Diagnostics.ProcessStartInfo("/usr/bin/setpriv",
            ["--bounding-set=-sys_ptrace", Dotnet.Host, Path.Combine(AppContext.BaseDirectory, "snapper.dll"),
             "sample", "--pid", target.Pid.ToString(), "--db", dir.File("s.db"), "--count", "5", "--no-report"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        var result = SnapperCli.Run(info);

        Assert.True(result.ExitCode == 5, result.ToString());
        Assert.Contains($"error: permission denied to trace process {target.Pid}", result.Stderr);
        Assert.Contains("runs as root but without the CAP_SYS_PTRACE capability", result.Stderr);
        Assert.Contains("--cap-add SYS_PTRACE", result.Stderr);
        Assert.False(target.AnyThreadStopped());
    }
}
