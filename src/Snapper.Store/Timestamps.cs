using System.Globalization;

namespace Snapper.Store;

/// <summary>Times are stored as ISO 8601 UTC text: sortable, readable in the sqlite3 shell, culture-free.</summary>
public static class Timestamps
{
    public static string Format(DateTime utc) =>
        utc.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public static DateTime Parse(string text) =>
        DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
}
