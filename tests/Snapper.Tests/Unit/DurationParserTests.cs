using Snapper.Cli;

namespace Snapper.Tests.Unit;

public sealed class DurationParserTests
{
    [Theory]
    [InlineData("500us", 0.0005)]
    [InlineData("10ms", 0.01)]
    [InlineData("30s", 30)]
    [InlineData("1.5s", 1.5)]
    [InlineData("15m", 900)]
    [InlineData("24h", 86400)]
    [InlineData("14d", 1209600)]
    [InlineData("10MS", 0.01)]
    public void Parses_units(string text, double seconds)
    {
        Assert.True(DurationParser.TryParse(text, out var value));
        Assert.Equal(seconds, value.TotalSeconds, 9);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("ms")]
    [InlineData("-5s")]
    [InlineData("1e999s")]
    [InlineData("10 parsecs")]
    [InlineData("1,5s")]
    public void Rejects_nonsense(string text) => Assert.False(DurationParser.TryParse(text, out _));
}
