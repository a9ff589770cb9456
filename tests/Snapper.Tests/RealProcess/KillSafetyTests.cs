using System.Diagnostics;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Snapper killed outright at random moments of a fast capture, stopped threads and all: the kernel must detach it
/// and the target must run on, never left in a stopped state, still doing its work.
/// </summary>
public sealed class KillSafetyTests
{
    [Fact]
    public void SIGKILL_at_random_moments_never_leaves_the_target_stopped()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var random = new Random(20261121);
        for (var round = 0; round < 12; round++)
        {
            var db = dir.File($"s{round}.db");
            using var snapper = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--rate", "500",
                "--duration", "1m", "--db", db, "--no-report"))!;
            SampleCommandTests.WaitForStoredSamples(db, atLeast: 1);
            Thread.Sleep(random.Next(0, 200)); // land anywhere in stop, walk or resume
            Assert.Equal(0, Native.Kill(snapper.Id, Native.SIGKILL));
            Assert.True(snapper.WaitForExit(10_000));

            // The kernel detaches a dead tracer's tracees as it exits; give it a moment, then look at every thread.
            var deadline = DateTime.UtcNow.AddSeconds(2);
            while (target.AnyThreadStopped() && DateTime.UtcNow < deadline) Thread.Sleep(10);
            Assert.False(target.AnyThreadStopped(), $"round {round}: the target was left stopped");
            Assert.False(target.Process.HasExited, $"round {round}: the target died");
        }
        // And the spinner still spins: a last capture sees it in its loop.
        var final = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "20", "--db", dir.File("final.db"), "--no-report");
        Assert.True(final.ExitCode == 0, final.ToString());
        var spins = ProfileQueries.StacksOf(ProfileQueries.LoadLatest(dir.File("final.db")), "Spinner");
        Assert.True(spins.Count(s => s.Any(f => f.DisplayName == "Snapper.TestTarget.Spinner.Spin")) >= 18);
    }
}
