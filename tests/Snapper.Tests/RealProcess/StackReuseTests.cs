using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// The fast engine reuses the stack of a thread that has not run since its last walk. A thread that blocks by turns
/// in two methods, at the same depth and in the same syscall, must still show both: a wrongly reused stack would
/// freeze it in one.
/// </summary>
public sealed class StackReuseTests
{
    [Fact]
    public void A_thread_blocking_in_turns_at_two_places_shows_both()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("alternating");
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "200", "--rate", "100", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 0, result.ToString());
        var stacks = ProfileQueries.StacksOf(ProfileQueries.LoadLatest(db), "Alternator");
        var alpha = stacks.Count(s => s.Any(f => f.DisplayName == "Snapper.TestTarget.Alpha.Wait"));
        var beta = stacks.Count(s => s.Any(f => f.DisplayName == "Snapper.TestTarget.Beta.Wait"));
        // Each half of the time, give or take sampling noise and the moments between the two sleeps.
        Assert.InRange(alpha, 60, 140);
        Assert.InRange(beta, 60, 140);
        Assert.True(alpha + beta >= 190, $"alpha {alpha}, beta {beta} of {stacks.Count}");
    }
}
