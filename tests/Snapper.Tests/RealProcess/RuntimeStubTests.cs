using Snapper.Sampling.Unwind;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// A thread caught in a runtime stub keeps its managed caller, with the stub named for what it does (issue 17): on the
/// `stubs` target an interface call with eight receiver types goes through the runtime's resolve stub on every call.
/// </summary>
public sealed class RuntimeStubTests
{
    [Fact]
    public void A_thread_in_an_interface_dispatch_stub_shows_the_stub_by_name_above_its_caller()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("stubs");
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "100", "--max-overhead", "off", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 0, result.ToString());
        var stacks = ProfileQueries.StacksOf(ProfileQueries.LoadLatest(db), "Interface caller");
        var inStub = stacks.Count(s => s[^1].DisplayName == StubCode.InterfaceResolve && s.Length >= 2 && s[^2].DisplayName == "Snapper.TestTarget.Shapes.SumAreas");
        var unnamed = stacks.Count(s => s[^1].DisplayName.StartsWith("[runtime-generated code", StringComparison.Ordinal));
        // Half the thread's time is in the stub (57% measured); 20 of 100 leaves no doubt that it is found.
        Assert.True(inStub >= 20, $"{inStub} of {stacks.Count} samples end in the resolve stub under SumAreas; e.g. {ProfileQueries.Describe(stacks[0])}");
        Assert.True(unnamed == 0, $"{unnamed} samples end in generated code left unnamed");
        Assert.False(target.AnyThreadStopped(), "a thread was left stopped");
    }
}
