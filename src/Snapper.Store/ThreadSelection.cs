using System.Text.RegularExpressions;

namespace Snapper.Store;

/// <summary>
/// <c>--threads &lt;regex&gt;</c>: keeps the threads whose managed name, OS name or runtime role matches (a .NET regular
/// expression, unanchored and case-sensitive; prefix <c>(?i)</c> to ignore case).
/// </summary>
public sealed class ThreadSelection
{
    // Names come from the target: a pathological one must not hang Snapper in backtracking.
    static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    readonly Regex _pattern;

    ThreadSelection(Regex pattern) => _pattern = pattern;

    public string Pattern => _pattern.ToString();

    /// <summary>Parses a pattern; null when it is not a valid regular expression (<paramref name="error"/> says why).</summary>
    public static ThreadSelection? TryParse(string pattern, out string? error)
    {
        try
        {
            error = null;
            return new ThreadSelection(new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout));
        }
        catch (ArgumentException e)
        {
            error = e.Message;
            return null;
        }
    }

    public bool Matches(string? name, string? osName, string? role) => IsMatch(name) || IsMatch(osName) || IsMatch(role);

    public bool Matches(ThreadInfo thread) => Matches(thread.Name, thread.OsName, thread.Role);

    bool IsMatch(string? text)
    {
        if (text is null) return false;
        try
        {
            return _pattern.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
