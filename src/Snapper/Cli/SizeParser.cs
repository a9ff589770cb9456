using System.Globalization;

namespace Snapper.Cli;

/// <summary>Parses sizes the way people write them: <c>500MB</c>, <c>1.5GB</c>, <c>200M</c>, <c>64k</c>, <c>1048576</c> (bytes). Powers of 1024.</summary>
public static class SizeParser
{
    static readonly (string Suffix, long Bytes)[] Units =
        [("kb", 1L << 10), ("k", 1L << 10), ("mb", 1L << 20), ("m", 1L << 20), ("gb", 1L << 30), ("g", 1L << 30), ("tb", 1L << 40), ("t", 1L << 40), ("b", 1)];

    public const string Help = "a number with a unit: KB, MB, GB or TB (e.g. 500MB, 2GB)";

    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim().ToLowerInvariant();
        var (number, scale) = (text, 1L);
        foreach (var (suffix, unit) in Units.OrderByDescending(u => u.Suffix.Length))
        {
            if (!text.EndsWith(suffix, StringComparison.Ordinal)) continue;
            (number, scale) = (text[..^suffix.Length].TrimEnd(), unit);
            break;
        }
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            || !double.IsFinite(value) || value <= 0 || value * scale > long.MaxValue / 2)
            return false;
        bytes = (long)(value * scale);
        return true;
    }

    /// <summary>"512 KB", "12.3 MB", "1.50 GB".</summary>
    public static string Format(long bytes) => bytes switch
    {
        < 1L << 20 => (bytes / 1024.0).ToString("0", CultureInfo.InvariantCulture) + " KB",
        < 1L << 30 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
        _ => (bytes / (double)(1L << 30)).ToString("0.00", CultureInfo.InvariantCulture) + " GB",
    };
}
