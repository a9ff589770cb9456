using System.Globalization;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>How a capture's overhead and budget read in the reports, the session list and the terminal.</summary>
public static class OverheadText
{
    const int ChangesShown = 4;

    /// <summary>"2.4% (target held stopped 0.3% of the time, Snapper's CPU 2.4% of a core)".</summary>
    public static string Measured(OverheadRecord overhead) =>
        $"{Share(overhead.Overhead)} (target held stopped {Share(overhead.PauseShare)} of the time, Snapper's CPU {Share(overhead.CpuShare)} of a core)";

    /// <summary>"budget 5%: rate to 50 Hz at 1.2 s, to 33.3 Hz at 4.0 s, back to 100 Hz at 9.1 s; ..."; or that it had none, or
    /// that the requested rate was kept.</summary>
    public static string Budget(OverheadRecord overhead, double requestedRate)
    {
        if (overhead.Budget is not { } budget) return "no budget (--max-overhead off)";
        if (overhead.Changes.Count == 0) return $"budget {Share(budget)}: the requested rate kept throughout";
        var shown = overhead.Changes.Take(ChangesShown).Select(c => string.Create(CultureInfo.InvariantCulture,
            $"{(c.Weight == 1 ? "back to" : "to")} {ReportFormat.Rate(requestedRate / c.Weight)} at {c.OffsetUs / 1e6:0.0} s"));
        var more = overhead.Changes.Count > ChangesShown ? $", {overhead.Changes.Count - ChangesShown} more changes" : "";
        return $"budget {Share(budget)}: rate {string.Join(", ", shown)}{more}; each sample counts for the intervals it stands for";
    }

    /// <summary>Both, for a report header line.</summary>
    public static string Describe(OverheadRecord overhead, double requestedRate) => $"{Measured(overhead)}; {Budget(overhead, requestedRate)}";

    /// <summary>"2.4%" or "2.4% of 5%" for a table cell; "-" when not measured.</summary>
    public static string Cell(OverheadRecord? overhead) => overhead is null ? "-"
        : overhead.Budget is { } budget ? $"{Share(overhead.Overhead)} of {Share(budget)}" : Share(overhead.Overhead);

    public static string Share(double share) => (share * 100).ToString(share < 0.1 ? "0.0#" : "0.#", CultureInfo.InvariantCulture) + "%";
}
