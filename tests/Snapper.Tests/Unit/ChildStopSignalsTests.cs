using System.Diagnostics;
using Snapper.Sampling.Linux;

namespace Snapper.Tests.Unit;

public sealed unsafe class ChildStopSignalsTests
{
    [Fact]
    public void Stops_no_longer_signal_but_exits_still_reach_the_runtime()
    {
        Assert.Equal(3, RunChild()); // the runtime's own SIGCHLD handler is installed by its first child at the latest
        ChildStopSignals.Silence();

        Native.SigAction action;
        Assert.Equal(0, Native.SigActionCall(Native.SIGCHLD, null, &action));
        Assert.NotEqual(0, action.Flags & Native.SA_NOCLDSTOP);
        Assert.NotEqual(0, action.Handler); // the runtime's handler is still the one installed
        // System.Diagnostics.Process learns of a child's exit from SIGCHLD: it still does.
        Assert.Equal(3, RunChild());
    }

    static int RunChild()
    {
        using var child = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "exit 3"]) { UseShellExecute = false })!;
        Assert.True(child.WaitForExit(10_000), "the child's exit was not seen");
        return child.ExitCode;
    }
}
