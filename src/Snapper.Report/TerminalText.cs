using System.Text;

namespace Snapper.Report;

/// <summary>Text read from a target, made safe to print.</summary>
public static class TerminalText
{
    /// <summary>
    /// Target strings end up in terminals: a control character (an escape sequence, a newline in a thread name) could
    /// redraw the screen or forge report lines, so each one is replaced.
    /// </summary>
    public static string Clean(string value)
    {
        if (!value.Any(char.IsControl)) return value;
        var clean = new StringBuilder(value.Length);
        foreach (var c in value) clean.Append(char.IsControl(c) ? '?' : c);
        return clean.ToString();
    }
}
