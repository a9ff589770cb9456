using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// A thread stopped in native code that managed code entered without a transition frame (FCalls, JIT helpers,
/// [SuppressGCTransition]) keeps its managed stack, with the native code named on top.
/// </summary>
public sealed class NativeLeafTests
{
    [Fact]
    public void Managed_callers_of_frameless_native_code_are_recovered()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("native-leaf");
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "100", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 0, result.ToString());
        var stacks = ProfileQueries.StacksOf(ProfileQueries.LoadLatest(db), "NativeLeaf");
        var inFill = stacks.Count(s =>
        {
            var names = s.Select(f => f.DisplayName).ToList();
            var run = names.IndexOf("Snapper.TestTarget.NativeLeaf.Run");
            return run >= 0 && names.IndexOf("Snapper.TestTarget.NativeLeaf.Fill") == run + 1;
        });
        // Named for the function it is in (libc.so.6!memset, or libc.so.6+0x... in a stripped libc), not "[native code in libc.so.6]".
        var nativeOnTop = stacks.Count(s => s[^1].Kind == FrameKind.Native && s[^1].Module.StartsWith("libc", StringComparison.Ordinal)
            && (s[^1].MethodName.StartsWith(s[^1].Module + "!", StringComparison.Ordinal) || s[^1].MethodName.StartsWith(s[^1].Module + "+0x", StringComparison.Ordinal)));
        Assert.True(inFill >= 90, $"{inFill} of {stacks.Count} samples show Run -> Fill; e.g. {ProfileQueries.Describe(stacks[0])}");
        Assert.True(nativeOnTop >= 80, $"{nativeOnTop} of {stacks.Count} samples end in a libc function; e.g. {ProfileQueries.Describe(stacks[0])}");
    }
}
