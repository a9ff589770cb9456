using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// The target ends abruptly in the middle of a fast capture: Snapper keeps what it had, records how the session
/// ended, and exits with its documented code; it never crashes itself (no SIGABRT, no stack trace).
/// </summary>
public sealed class TargetDeathTests
{
    // "exception" once crashed Snapper (SIGSEGV inside the DAC): IL maps were read after the resume, while the
    // runtime unwound the exception. They are read while the target is stopped now (see ILOffsets).
    [Theory]
    [InlineData("exception")]
    [InlineData("failfast")]
    [InlineData("kill")]
    [InlineData("exec")]
    public void A_target_that_dies_or_execs_mid_capture_leaves_a_clean_session(string how)
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("die-after", "1500", how);
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--rate", "500", "--duration", "60s", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 7, result.ToString());
        Assert.StartsWith("error: ", result.Stderr.Trim());
        Assert.DoesNotContain("   at ", result.Stderr);
        var profile = ProfileQueries.LoadLatest(db);
        Assert.Equal(SessionEndReason.TargetExited, profile.Session.EndReason);
        Assert.True(profile.Session.SnapshotCount > 10, $"{profile.Session.SnapshotCount} snapshots kept");
    }
}
