using System.Globalization;

namespace Snapper.Cli;

/// <summary>
/// <c>sample --max-overhead</c>: the largest share of the target Snapper may take (see OverheadGovernor), written as a
/// percentage ("5%", "0.5%", "5") or "off" to only measure it.
/// </summary>
public static class OverheadBudget
{
    /// <summary>
    /// The default of an interactive capture: the fast engine's promise (issue 16: 0.3 ms of CPU a sample, 3% at 100 Hz),
    /// with room for a busy service's slower snapshots, so that it throttles only what costs more than a profiler should.
    /// </summary>
    public const double Default = 0.10;

    /// <summary>
    /// The default with <c>--if-running</c> (cron, systemd timers): captures nobody watches, on production hosts, again
    /// and again. They need a representative profile, not the highest rate: 2% still takes about 20 snapshots a second
    /// on ShopService under load, 1,200 a minute.
    /// </summary>
    public const double UnattendedDefault = 0.02;

    public const string Help = "a percentage (5%, 0.5%) or off";

    /// <summary>The budget as a share (0.05 for 5%), null for "off"; false when the text is neither.</summary>
    public static bool TryParse(string text, out double? budget)
    {
        budget = null;
        var trimmed = text.Trim().TrimEnd('%').Trim();
        if (trimmed.Equals("off", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("none", StringComparison.OrdinalIgnoreCase)) return true;
        if (!double.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var percent)
            || !double.IsFinite(percent) || percent <= 0 || percent > 100)
            return false;
        budget = percent / 100;
        return true;
    }

    /// <summary>The budget a capture runs with: the one given, else the default for how it was started.</summary>
    public static double? Resolve(string? text, bool unattended)
    {
        if (text is null) return unattended ? UnattendedDefault : Default;
        if (!TryParse(text, out var budget))
            throw new SnapperException(ExitCode.InvalidArguments, $"--max-overhead must be {Help}, not '{text}'");
        return budget;
    }
}
