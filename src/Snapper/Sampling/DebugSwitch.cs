namespace Snapper.Sampling;

/// <summary>
/// SNAPPER_DEBUG: set to anything but empty, "0", "false", "no" or "off", Snapper prints what helps debug it (a bug's
/// stack trace, the BPF verifier's log, the fast walk's and the survey's counters). Read in one place, so that
/// SNAPPER_DEBUG=0 means off everywhere.
/// </summary>
static class DebugSwitch
{
    public const string Variable = "SNAPPER_DEBUG";

    public static bool Enabled { get; } = IsOn(Environment.GetEnvironmentVariable(Variable));

    static readonly string[] Off = ["0", "false", "no", "off"];

    internal static bool IsOn(string? value) =>
        value?.Trim() is { Length: > 0 } word && !Off.Contains(word, StringComparer.OrdinalIgnoreCase);
}
