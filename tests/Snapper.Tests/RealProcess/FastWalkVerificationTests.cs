using System.Text.RegularExpressions;
using Snapper.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// The fast walk yields the DAC's frames: with SNAPPER_VERIFY_WALK=1 every thread the fast walk covers is walked by
/// the DAC too, from the same stop, and the two are compared frame by frame (kind, method, frame type, stack pointer,
/// instruction pointer). Targets whose threads change stacks all the time (so that they are walked, not reused), stop
/// in prologs, epilogs, funclets, P/Invokes, stubs, runtime helpers and GC suspensions, a target whose code is being
/// compiled all the time, and a web service under load.
/// </summary>
public sealed partial class FastWalkVerificationTests(ShopServiceFixture shop, ITestOutputHelper output) : IClassFixture<ShopServiceFixture>
{
    [GeneratedRegex(@"walk verification: (\d+) threads walked both ways, (\d+) differences")]
    internal static partial Regex Verification();

    [GeneratedRegex(@"walked fast \((\d+) frames in funclets\)")]
    private static partial Regex FuncletFrames();

    [Theory]
    [InlineData("churn", 300)]
    [InlineData("stress", 50)]
    [InlineData("native-leaf", 50)]
    [InlineData("mixed", 1)]
    [InlineData("states", 1)]
    [InlineData("alternating", 1)]
    [InlineData("tiering", 20)]
    public void The_fast_walk_equals_the_DACs_walk_of_the_same_stop(string scenario, int atLeast)
    {
        using var target = RunningTarget.StartTestTarget(scenario);
        var (compared, differences, stderr) = CaptureVerified(target.Pid, "4s");
        Assert.True(differences == 0, stderr);
        Assert.True(compared >= atLeast, $"only {compared} threads walked both ways\n{stderr}");
        // Churn's workers spend a seventh of their loops under a finally their bodies call: walked fast, not by the DAC.
        if (scenario == "churn") Assert.True(long.Parse(FuncletFrames().Match(stderr).Groups[1].Value) > 0, stderr);
    }

    [Fact]
    public async Task The_fast_walk_equals_the_DACs_walk_on_a_web_service_under_load()
    {
        await using var load = new HttpLoad(shop.BaseAddress, ["orders/search", "catalog", "report", "inventory", "prices", "recommend"], perPath: 2);
        await Task.Delay(1000);
        var (compared, differences, stderr) = CaptureVerified(shop.Target.Pid, "5s");
        Assert.True(differences == 0, stderr);
        Assert.True(compared >= 100, $"only {compared} threads walked both ways\n{stderr}");
        Assert.True(load.Ok > 10, $"load: {load.Ok} answered");
    }

    [GeneratedRegex(@"dac frame verification: (\d+) walks compared with ClrMD's, (\d+) differences")]
    private static partial Regex DacFrameVerification();

    /// <summary>
    /// The DAC's walk that names methods from the code map (what the fast walk falls back to, and learns from) yields
    /// ClrMD's frames: with SNAPPER_VERIFY_DAC_FRAMES=1 each is walked by ClrMD's EnumerateStackTrace too, from the same stop.
    /// </summary>
    [Theory]
    [InlineData("states")]
    [InlineData("native-leaf")]
    [InlineData("stress")]
    [InlineData("mixed")]
    public void The_DAC_walk_named_from_the_code_map_equals_ClrMDs(string scenario)
    {
        using var target = RunningTarget.StartTestTarget(scenario);
        var (compared, differences, stderr) = VerifiedCapture.Run(target.Pid, "200", "3s", "SNAPPER_VERIFY_DAC_FRAMES", DacFrameVerification(), output);
        Assert.True(differences == 0, stderr);
        Assert.True(compared >= 1, $"no DAC walk compared\n{stderr}");
    }

    [Fact]
    public async Task The_DAC_walk_named_from_the_code_map_equals_ClrMDs_on_a_web_service_under_load()
    {
        await using var load = new HttpLoad(shop.BaseAddress, ["orders/search", "catalog", "report", "inventory", "prices", "recommend"], perPath: 2);
        await Task.Delay(1000);
        var (compared, differences, stderr) = VerifiedCapture.Run(shop.Target.Pid, "200", "5s", "SNAPPER_VERIFY_DAC_FRAMES", DacFrameVerification(), output);
        Assert.True(differences == 0, stderr);
        Assert.True(compared >= 1, $"no DAC walk compared\n{stderr}");
    }

    (long Compared, long Differences, string Stderr) CaptureVerified(int pid, string duration) =>
        VerifiedCapture.Run(pid, "200", duration, "SNAPPER_VERIFY_WALK", Verification(), output);
}
