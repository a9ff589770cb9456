namespace Snapper.Cli;

/// <summary>
/// SNAPPER_DEBUG: set to anything but empty, "0", "false", "no" or "off", Snapper prints what helps debug it (a bug's
/// stack trace, the BPF verifier's log, the fast walk's and the survey's counters). Read in one place, so that
/// SNAPPER_DEBUG=0 means off everywhere.
/// </summary>
static class DebugSwitch
{
    public const string Variable = "SNAPPER_DEBUG";

    public static bool Enabled { get; } = IsOn(Environment.GetEnvironmentVariable(Variable));

    internal static bool IsOn(string? value) =>
        value is { Length: > 0 } && !(value.Trim() is "0" || value.Trim().Equals("false", StringComparison.OrdinalIgnoreCase)
            || value.Trim().Equals("no", StringComparison.OrdinalIgnoreCase) || value.Trim().Equals("off", StringComparison.OrdinalIgnoreCase));
}
