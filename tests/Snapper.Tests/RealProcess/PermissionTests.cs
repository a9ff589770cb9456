using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>Without ptrace rights, one clear line that says what is needed; run as an unprivileged user.</summary>
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
}
