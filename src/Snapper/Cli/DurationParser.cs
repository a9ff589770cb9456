using System.Globalization;

namespace Snapper.Cli;

/// <summary>Parses durations the way people write them: <c>500us</c>, <c>10ms</c>, <c>30s</c>, <c>15m</c>, <c>24h</c>, <c>14d</c>.</summary>
public static class DurationParser
{
    static readonly (string Suffix, double Seconds)[] Units =
        [("us", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        // Longest suffix first: "ms" must win over "s", "us" over "s".
        foreach (var (suffix, seconds) in Units.OrderByDescending(u => u.Suffix.Length))
        {
            if (!text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) continue;
            var number = text[..^suffix.Length];
            if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
                || !double.IsFinite(value) || value * seconds > TimeSpan.MaxValue.TotalSeconds / 2)
                return false;
            duration = TimeSpan.FromSeconds(value * seconds);
            return true;
        }
        return false;
    }

    public const string Help = "a number with a unit: us, ms, s, m, h or d (e.g. 10ms, 30s, 15m)";
}
