using System.Text.RegularExpressions;
using Snapper.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Every stack a snapshot takes without walking it (a thread asleep where it was, one waiting for a CPU in a loop it
/// was walked in, one stopped in such a loop) is the stack a walk finds: with SNAPPER_VERIFY_REUSE=1 each such thread
/// is stopped and walked too, in the same stop, and the two compared frame by frame; so is each thread walked without a
/// stop from a copy of its stack. Threads whose registers at the stop show they ran since the survey are counted
/// apart; a difference is a reuse that lied.
/// </summary>
public sealed partial class ReuseVerificationTests(ShopServiceFixture shop, ITestOutputHelper output) : IClassFixture<ShopServiceFixture>
{
    [GeneratedRegex(@"reuse verification: (\d+) reused stacks walked too, (\d+) differences")]
    private static partial Regex Verification();

    [GeneratedRegex(@"walked without a stop: (\d+) compared")]
    private static partial Regex WalkedWithoutStop();

    [Theory]
    [InlineData("states", 100)]
    [InlineData("bursts", 100)]
    [InlineData("alternating", 50)]
    [InlineData("bench", 100, "4", "9")]
    public void A_reused_stack_equals_the_walk_of_the_same_stop(string scenario, int atLeast, params string[] arguments)
    {
        using var target = RunningTarget.StartTestTarget([scenario, .. arguments]);
        var (compared, differences, stderr) = CaptureVerified(target.Pid, "4s");
        Assert.True(differences == 0, stderr);
        Assert.True(compared >= atLeast, $"only {compared} reused stacks walked too\n{stderr}");
    }

    [Fact]
    public async Task A_reused_stack_equals_the_walk_on_a_web_service_under_load()
    {
        await using var load = new HttpLoad(shop.BaseAddress, ["orders/search", "catalog", "report", "inventory", "prices", "recommend"], perPath: 2);
        await Task.Delay(1000);
        var (compared, differences, stderr) = CaptureVerified(shop.Target.Pid, "5s");
        Assert.True(differences == 0, stderr);
        Assert.True(compared >= 100, $"only {compared} reused stacks walked too\n{stderr}");
        // A service's threads change stacks between samples: most are taken without a stop, and compared here.
        var unstopped = WalkedWithoutStop().Match(stderr);
        Assert.True(unstopped.Success && long.Parse(unstopped.Groups[1].Value) >= 100, $"too few threads walked without a stop\n{stderr}");
        Assert.True(load.Ok > 10, $"load: {load.Ok} answered");
    }

    (long Compared, long Differences, string Stderr) CaptureVerified(int pid, string duration) =>
        VerifiedCapture.Run(pid, "100", duration, "SNAPPER_VERIFY_REUSE", Verification(), output);
}
