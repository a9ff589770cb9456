using Snapper.Sampling;

namespace Snapper.Tests.Unit;

/// <summary>SNAPPER_DEBUG=0 (or false, no, off) means off, as a user who writes it expects (issue 21).</summary>
public sealed class DebugSwitchTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("OFF", false)]
    [InlineData("no", false)]
    [InlineData("1", true)]
    [InlineData("yes", true)]
    [InlineData("verbose", true)]
    public void Debugging_is_on_only_for_a_value_that_means_on(string? value, bool on) => Assert.Equal(on, DebugSwitch.IsOn(value));
}
