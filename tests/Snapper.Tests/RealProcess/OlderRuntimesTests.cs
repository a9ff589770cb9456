using Snapper.Store;
using Snapper.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// A smoke subset of the real-process checks on .NET 8 and 9, the runtimes before the tests' own: frames in order,
/// thread states, transition frames, source lines, native frames, and the runtime's version in each session. The
/// targets are the test target's own scenarios (the same source), published self-contained, as only the .NET 10
/// runtime is installed here: they stand in for framework-dependent apps (the same runtime, at another path). What
/// differs between the runtimes, and why the full suite runs on .NET 10 only: docs/runtimes.md.
/// </summary>
public sealed class OlderRuntimesTests(OlderRuntimeApps apps, ITestOutputHelper output) : IClassFixture<OlderRuntimeApps>
{
    static readonly string Source = Path.Combine(Repository.Root, "tests", "Snapper.TestTarget", "Mixed.cs");

    [Theory]
    [InlineData("net8.0")]
    [InlineData("net9.0")]
    public void Frames_in_order_with_lines_a_transition_frame_and_the_runtime_version(string framework)
    {
        var app = apps.Get(framework);
        Assert.StartsWith(framework[3..] + ".", app.RuntimeVersion); // "8.0." for net8.0: the SDK published the runtime asked for
        using var dir = new TempDirectory();
        using var target = app.Start("mixed");
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "60", "--rate", "50", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(target.AnyThreadStopped(), "the target was left stopped");
        Assert.False(target.Process.HasExited);
        var profile = ProfileQueries.LoadLatest(db);
        Assert.Equal(app.RuntimeVersion, profile.Session.Target.RuntimeVersion);
        Assert.Equal(60, profile.Session.SnapshotCount);
        foreach (var name in new[] { "Spinner", "Recursor", "NativeSleeper", "Waiter", "Order pipeline: settlement worker #1" })
            Assert.Equal(60, ProfileQueries.StacksOf(profile, name).Count);

        // The 20-deep recursion whole and in order, outermost first, each frame at its line, then the wait.
        var recursion = SourceLineTests.LineOf(Source, "return Recurse(depth - 1) + 1;", after: "static class Recursor");
        var wait = SourceLineTests.LineOf(Source, "lock (Gate) Monitor.Wait(Gate);", after: "static class Recursor");
        foreach (var stack in ProfileQueries.StacksOf(profile, "Recursor"))
        {
            var first = Array.FindIndex(stack, f => f.DisplayName == "Snapper.TestTarget.Recursor.Recurse");
            Assert.True(first >= 0, ProfileQueries.Describe(stack));
            var frames = stack.Skip(first).TakeWhile(f => f.DisplayName == "Snapper.TestTarget.Recursor.Recurse").ToList();
            Assert.Equal(21, frames.Count);
            Assert.All(frames[..^1], f => Assert.Equal(("Mixed.cs", recursion), (Path.GetFileName(f.File), f.Line)));
            Assert.Equal(("Mixed.cs", wait), (Path.GetFileName(frames[^1].File), frames[^1].Line));
            Assert.Contains(stack.Skip(first + 21), f => f.DisplayName.Contains("Monitor", StringComparison.Ordinal));
        }

        // The spinner in its loop, at the loop's line; its caller at the line of its call.
        var loop = SourceLineTests.LineOf(Source, "while (true) { x = x * 31 + 7; Sink = x; }", after: "static class Spinner");
        var call = SourceLineTests.LineOf(Source, "new Thread(() => { started.Signal(); body(); })", after: "static void Start(");
        var spins = ProfileQueries.StacksOf(profile, "Spinner").Where(s => s[^1].DisplayName == "Snapper.TestTarget.Spinner.Spin").ToList();
        Assert.True(spins.Count >= 54, $"{spins.Count} of 60 spinner samples end in Spin");
        Assert.All(spins, s => Assert.Equal(("Mixed.cs", loop), (Path.GetFileName(s[^1].File), s[^1].Line)));
        Assert.All(spins, s => Assert.Equal(("Mixed.cs", call), (Path.GetFileName(s[^2].File), s[^2].Line)));

        // The thread blocked in a P/Invoke ends in the transition frame named for the native function, above its caller.
        var native = ProfileQueries.StacksOf(profile, "NativeSleeper");
        var withTransition = native.Count(s =>
        {
            var run = Array.FindIndex(s, f => f.DisplayName == "Snapper.TestTarget.NativeSleeper.Run");
            return run >= 0 && s[^1].DisplayName == "libc!usleep" && s[^1].Kind == FrameKind.Transition;
        });
        Assert.True(withTransition >= 0.9 * native.Count, $"{withTransition} of {native.Count}: {ProfileQueries.Describe(native[0])}");

        // snapper ps says the same version (it reads it without attaching).
        var ps = SnapperCli.Run("ps");
        Assert.True(ps.ExitCode == 0, ps.ToString());
        var line = Assert.Single(ps.Stdout.Split('\n'), l => l.TrimStart().StartsWith(target.Pid + " ", StringComparison.Ordinal));
        Assert.Contains($" {app.RuntimeVersion} ", line);
    }

    [Theory]
    [InlineData("net8.0")]
    [InlineData("net9.0")]
    public void Each_thread_has_its_state_and_native_frames_sit_above_the_transitions(string framework)
    {
        var app = apps.Get(framework);
        using var dir = new TempDirectory();
        using var target = app.Start("states");
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "60", "--native", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(target.AnyThreadStopped(), "the target was left stopped");
        var profile = ProfileQueries.LoadLatest(db);
        Assert.Equal(app.RuntimeVersion, profile.Session.Target.RuntimeVersion);
        var expected = new Dictionary<string, SampleState>
        {
            ["Busy spinner"] = SampleState.Cpu,
            ["Sleepy"] = SampleState.Sleep,
            ["Socket reader"] = SampleState.Io,
            ["Native caller"] = SampleState.Sleep,
            ["Late named waiter"] = SampleState.LockWait,
        };
        foreach (var (name, state) in expected) ProfileQueries.AssertMostlyIn(profile, name, state);

        NativeFramesTests.AssertNativeAbove(ProfileQueries.StacksOf(profile, "Native caller"), "Snapper.TestTarget.StatePInvoker.Call",
            "libc!usleep", ["libc.so.6!usleep"], NativeFramesTests.SleepFunctions);
        NativeFramesTests.AssertNativeAbove(ProfileQueries.StacksOf(profile, "Socket reader"), "Snapper.TestTarget.StateSocketReader.Read",
            "libSystem.Native!SystemNative_ReceiveMessage", ["libSystem.Native.so!SystemNative_ReceiveMessage"], NativeFramesTests.ReceiveFunctions);
    }

    /// <summary>
    /// The fast walk learns the runtime's frame layouts from the DAC's own walks rather than assuming them for a version:
    /// on these runtimes too it must yield the DAC's frames (SNAPPER_VERIFY_WALK=1 walks each thread both ways).
    /// .NET 8's Monitor.Wait and Thread.Sleep stop under helper method frames, which .NET 9 and 10 no longer use there.
    /// </summary>
    [Theory]
    [InlineData("net8.0", "mixed")]
    [InlineData("net8.0", "states")]
    [InlineData("net9.0", "mixed")]
    [InlineData("net9.0", "states")]
    public void The_fast_walk_equals_the_DACs_walk_of_the_same_stop(string framework, string scenario)
    {
        using var target = apps.Get(framework).Start(scenario);

        var (compared, differences, stderr) = VerifiedCapture.Run(target.Pid, "200", "3s", "SNAPPER_VERIFY_WALK",
            FastWalkVerificationTests.Verification(), output);

        Assert.True(differences == 0, stderr);
        Assert.True(compared >= 100, $"only {compared} threads walked both ways\n{stderr}");
    }

    [Theory]
    [InlineData("net8.0")]
    [InlineData("net9.0")]
    public void Native_code_called_without_a_transition_is_unwound_to_its_managed_caller(string framework)
    {
        var app = apps.Get(framework);
        using var dir = new TempDirectory();
        using var target = app.Start("native-leaf");
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "60", "--native", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 0, result.ToString());
        var profile = ProfileQueries.LoadLatest(db);
        Assert.Equal(app.RuntimeVersion, profile.Session.Target.RuntimeVersion);
        // memset's implementation is a local symbol (absent from .dynsym): it may read as libc.so.6+0x... or by name.
        var stacks = ProfileQueries.StacksOf(profile, "NativeLeaf");
        var unwound = stacks.Count(s =>
        {
            var fill = Array.FindIndex(s, f => f.DisplayName == "Snapper.TestTarget.NativeLeaf.Fill");
            return fill >= 0 && s[^1].Kind == FrameKind.Native && s[^1].DisplayName.StartsWith("libc.so.6", StringComparison.Ordinal)
                && s.Skip(fill + 1).All(f => f.Kind == FrameKind.Native);
        });
        Assert.True(unwound >= 0.8 * stacks.Count, $"{unwound} of {stacks.Count}; e.g. {ProfileQueries.Describe(stacks[0])}");
    }
}
