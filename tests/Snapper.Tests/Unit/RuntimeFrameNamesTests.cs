using Snapper.Sampling.ClrMd;

namespace Snapper.Tests.Unit;

/// <summary>The runtime's explicit frames read as what they stand for, keeping the type name SOS and ClrMD use.</summary>
public sealed class RuntimeFrameNamesTests
{
    [Theory]
    [InlineData("DynamicHelperFrame", null, "[DynamicHelperFrame: runtime helper (generic dictionary lookup)]")]
    [InlineData("PrestubMethodFrame", "App.Orders.Checkout", "[PrestubMethodFrame: method being prepared (JIT-compiled or fixed up): App.Orders.Checkout]")]
    [InlineData("DebuggerU2MCatchHandlerFrame", null, "[DebuggerU2MCatchHandlerFrame: thread entered from native code]")]
    [InlineData("SomeFrameFromATomorrowRuntime", null, "[SomeFrameFromATomorrowRuntime]")]
    [InlineData("SomeFrameFromATomorrowRuntime", "App.Run", "[SomeFrameFromATomorrowRuntime: App.Run]")]
    public void A_frame_is_named_for_what_the_runtime_does_there(string frameType, string? method, string expected) =>
        Assert.Equal(expected, RuntimeFrameNames.Describe(frameType, method));

    [Theory]
    [InlineData("DebuggerU2MCatchHandlerFrame", true)]
    [InlineData("InlinedCallFrame", true)]
    [InlineData("HelperMethodFrame_1OBJ", true)]
    [InlineData("SomeFrameFromATomorrowRuntime", true)]
    [InlineData("PrestubMethodFrame", false)]
    [InlineData("DynamicHelperFrame", false)]
    [InlineData("HijackFrame", false)]
    public void Only_frames_that_say_nothing_of_the_work_under_them_are_opaque(string frameType, bool opaque) =>
        Assert.Equal(opaque, RuntimeFrameNames.IsOpaque(frameType));

    [Theory]
    [InlineData("DebuggerU2MCatchHandlerFrame", true)]
    [InlineData("DynamicHelperFrame", true)] // a generic handle being resolved: types loaded, methods compiled under it
    [InlineData("ExternalMethodFrame", true)]
    [InlineData("StubDispatchFrame", true)]
    [InlineData("PrestubMethodFrame", false)] // names the method being prepared: stays the leaf
    [InlineData("HijackFrame", false)]
    public void The_native_function_goes_on_top_of_frames_that_say_only_why_the_runtime_was_entered(string frameType, bool nativeOnTop) =>
        Assert.Equal(nativeOnTop, RuntimeFrameNames.NativeLeafSaysMore(frameType));
}
