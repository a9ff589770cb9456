using System.Globalization;
using Snapper.Store;

namespace Snapper.Cli;

/// <summary>One-line descriptions of a session for the terminal.</summary>
public static class SessionSummary
{
    public static string Describe(SessionInfo s) => string.Create(CultureInfo.InvariantCulture,
        $"{s.SnapshotCount} samples of {s.Target.ProcessName} (pid {s.Target.Pid}) at {s.AchievedRate:F1}/s; " +
        $"pause p50 {Ms(s.Pause.P50Us)} p99 {Ms(s.Pause.P99Us)} max {Ms(s.Pause.MaxUs)}; " +
        $"{EndText(s.EndReason)}{Overhead(s)}{Focus(s.Focus)}{(s.LateCount > 0 ? $"; {s.LateCount} late" : "")}{(s.FailedCount > 0 ? $"; {s.FailedCount} failed" : "")}{Errors(s.InternalErrors)}");

    /// <summary>"; 3 lost to Snapper errors (see 'snapper sessions')", or nothing for a capture that had none.</summary>
    public static string Errors(IReadOnlyList<InternalError> errors) => errors.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
        $"; {errors.Sum(e => e.Count)} lost to Snapper errors (see 'snapper sessions')");

    /// <summary>"; overhead 2.4%", with the budget and the lowest rate it led to when it lowered the rate.</summary>
    public static string Overhead(SessionInfo s) => s.Overhead is not { } o ? ""
        : o.MaxWeight > 1 ? string.Create(CultureInfo.InvariantCulture,
            $"; overhead {Report.OverheadText.Cell(o)} budget, rate lowered to {s.Target.RequestedRate / o.MaxWeight:0.#}/s at times")
        : $"; overhead {Report.OverheadText.Cell(o)}{(o.Budget is null ? "" : " budget")}";

    public static string Ms(long microseconds) => (microseconds / 1000.0).ToString("0.00", CultureInfo.InvariantCulture) + " ms";

    public static string EndText(SessionEndReason reason) => reason switch
    {
        SessionEndReason.CountReached => "count reached",
        SessionEndReason.DurationReached => "duration reached",
        SessionEndReason.Interrupted => "stopped by user",
        SessionEndReason.TargetExited => "target exited",
        SessionEndReason.Failed => "failed",
        SessionEndReason.Abandoned => "abandoned",
        SessionEndReason.FocusCountReached => "focus count reached",
        _ => "running",
    };

    /// <summary>"; focus /Checkout/ kept 100 of 2,412 thread samples", or nothing for a capture without --focus.</summary>
    public static string Focus(FocusCounts? focus) => focus is null ? "" : string.Create(CultureInfo.InvariantCulture,
        $"; focus /{focus.Pattern}/ kept {focus.Kept:N0} of {focus.Seen:N0} thread samples");
}
