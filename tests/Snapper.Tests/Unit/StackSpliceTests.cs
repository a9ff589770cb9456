using Snapper.Sampling.Unwind;
using Snapper.Store;

namespace Snapper.Tests.Unit;

/// <summary>Where native frames go among the runtime walk's frames: by stack address, the walk's order kept.</summary>
public sealed class StackSpliceTests
{
    static FrameInfo M(string name) => new(FrameKind.Managed, "app.dll", "", name);
    static FrameInfo T(string name) => new(FrameKind.Transition, "", "", name);
    static FrameInfo N(string name) => new(FrameKind.Native, "libc.so.6", "", name);

    static string[] Names(FrameInfo[] frames) => frames.Select(f => f.MethodName).ToArray();

    [Fact]
    public void Native_code_called_from_a_PInvoke_goes_on_top_of_its_transition_frame()
    {
        // The transition frame lives inside the IL stub's frame (a higher address) yet is shown after it.
        var merged = StackSplice.Merge(
            [M("Run"), M("IL_STUB"), T("libc!usleep")], [0x7000, 0x6000, 0x6040],
            [N("usleep"), N("clock_nanosleep")], [0x6000, 0x5f80]);

        Assert.Equal(["Run", "IL_STUB", "libc!usleep", "usleep", "clock_nanosleep"], Names(merged));
    }

    [Fact]
    public void Runtime_frames_of_a_thread_started_in_native_code_land_inside_the_native_frames_that_made_them()
    {
        // A finalizer: clone3 -> start_thread -> ThreadStart (which holds the runtime frame) -> ... -> the wait.
        var merged = StackSplice.Merge(
            [T("[DebuggerU2MCatchHandlerFrame]")], [0x9d00],
            [N("clone3"), N("start_thread"), N("ThreadStart"), N("FinalizerLoop"), N("pthread_cond_wait")], [0xa000, 0x9f00, 0x9e00, 0x9c00, 0x9b00]);

        Assert.Equal(["clone3", "start_thread", "ThreadStart", "[DebuggerU2MCatchHandlerFrame]", "FinalizerLoop", "pthread_cond_wait"], Names(merged));
    }

    [Fact]
    public void A_managed_callers_stack_pointer_equal_to_its_native_callees_CFA_keeps_the_caller_outer()
    {
        var merged = StackSplice.Merge([M("Run"), M("Fill")], [0x8000, 0x7000], [N("memset")], [0x7000]);

        Assert.Equal(["Run", "Fill", "memset"], Names(merged));
    }

    [Fact]
    public void Without_native_frames_the_walk_is_unchanged()
    {
        var merged = StackSplice.Merge([M("Run"), T("[frame]")], [0x8000, 0x7000], [], []);

        Assert.Equal(["Run", "[frame]"], Names(merged));
    }
}
