using System.Globalization;
using System.Text;

namespace Snapper.Report;

/// <summary>A diff for terminals and CI logs: the two sides, then the largest regressions and improvements.</summary>
public static class DiffTextWriter
{
    public static void Write(ProfileDiff diff, DiffSides sides, TextWriter output, int top = 20)
    {
        var text = new StringBuilder();
        text.Append($"Snapper diff: {TerminalText.Clean(sides.Base)} ({ReportFormat.Count(diff.BaseSamples)} samples) -> " +
                    $"{TerminalText.Clean(sides.Compare)} ({ReportFormat.Count(diff.CompareSamples)} samples)\n");
        text.Append("Shares are percent of each side's samples; change in percentage points.\n");
        Section(text, "Regressions (more of the time spent here)", diff.Regressions(top));
        Section(text, "Improvements (less of the time spent here)", diff.Improvements(top));
        output.Write(text.ToString());
    }

    static void Section(StringBuilder text, string title, IReadOnlyList<FunctionChange> changes)
    {
        text.Append('\n').Append(title).Append('\n');
        if (changes.Count == 0)
        {
            text.Append("  (none above 0.1 points)\n");
            return;
        }
        text.Append("      self before -> after  change      total before -> after  change  function\n");
        foreach (var c in changes)
        {
            text.Append(string.Create(CultureInfo.InvariantCulture,
                $"  {c.BaseSelf,10:0.0}% -> {c.CompareSelf,5:0.0}%  {Points(c.SelfDelta),7}  {c.BaseTotal,10:0.0}% -> {c.CompareTotal,5:0.0}%  {Points(c.TotalDelta),7}  "));
            var module = c.Method.Module.Length == 0 ? "" : $" [{c.Method.Module}]";
            text.Append(TerminalText.Clean(c.Method.DisplayName + module)).Append('\n');
        }
    }

    internal static string Points(double delta) => (delta >= 0 ? "+" : "") + delta.ToString("0.0", CultureInfo.InvariantCulture);
}

/// <summary>How each side of a diff is described: "session 3", "sessions 4, 5".</summary>
public sealed record DiffSides(string Base, string Compare);
