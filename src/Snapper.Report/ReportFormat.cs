using System.Globalization;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// Human-readable numbers for the text and HTML reports. Everything goes through the invariant culture: a report
/// made on a German machine must read the same as one made in CI, and golden files compare exactly.
/// </summary>
static class ReportFormat
{
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>A plain integer, for ids: "1234". Never through string interpolation, which uses the current culture.</summary>
    public static string Integer(long value) => value.ToString(Invariant);

    /// <summary>Thousands separated with commas: "1,234,567".</summary>
    public static string Count(long value) => value.ToString("N0", Invariant);

    /// <summary>One decimal: "12.3%". A share that rounds to zero but is not zero says "<0.1%" rather than lying.</summary>
    public static string Percent(double percent) =>
        percent > 0 && percent < 0.05 ? "<0.1%" : percent.ToString("0.0", Invariant) + "%";

    /// <summary>A pruning threshold as people write it: "1%", "0.1%", "0.01%".</summary>
    public static string Threshold(double percent) => percent.ToString("0.####", Invariant) + "%";

    /// <summary>Microseconds in the unit people read pauses in: "0.84 ms", "12.5 ms", "1.20 s".</summary>
    public static string Micros(long us) => us switch
    {
        < 10_000 => (us / 1000.0).ToString("0.00", Invariant) + " ms",
        < 100_000 => (us / 1000.0).ToString("0.0", Invariant) + " ms",
        < 1_000_000 => (us / 1000.0).ToString("0", Invariant) + " ms",
        _ => (us / 1_000_000.0).ToString("0.00", Invariant) + " s",
    };

    /// <summary>Wall time: "850 ms", "12.3 s", "2 min 05 s", "1 h 02 min".</summary>
    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero) span = TimeSpan.Zero;
        if (span.TotalSeconds < 1) return span.TotalMilliseconds.ToString("0", Invariant) + " ms";
        if (span.TotalSeconds < 60) return span.TotalSeconds.ToString("0.0", Invariant) + " s";
        if (span.TotalHours < 1)
            return string.Create(Invariant, $"{(int)span.TotalMinutes} min {span.Seconds:00} s");
        return string.Create(Invariant, $"{(int)span.TotalHours} h {span.Minutes:00} min");
    }

    /// <summary>"2025-01-31 14:05:09 UTC". The format is quoted literally so the culture's time separator cannot creep in.</summary>
    public static string Utc(DateTime utc) => AsUtc(utc).ToString("yyyy'-'MM'-'dd' 'HH':'mm':'ss' UTC'", Invariant);

    /// <summary>ISO 8601 with microseconds, as the store writes it: "2025-01-31T14:05:09.123456Z".</summary>
    public static string IsoUtc(DateTime utc) => AsUtc(utc).ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'Z'", Invariant);

    /// <summary>The store hands out UTC; an unspecified kind is taken as UTC too, never shifted by this machine's time zone.</summary>
    static DateTime AsUtc(DateTime time) => time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time;

    /// <summary>CPU time from nanoseconds: "0 ms", "12.3 ms", "4.56 s", "2 min 05 s".</summary>
    public static string CpuTime(long ns) => ns switch
    {
        < 1_000_000_000 => (ns / 1e6).ToString(ns < 100_000_000 ? "0.0" : "0", Invariant) + " ms",
        < 60_000_000_000 => (ns / 1e9).ToString("0.00", Invariant) + " s",
        _ => Duration(TimeSpan.FromTicks(ns / 100)),
    };

    /// <summary>"Orders (pid 4242)", or "Orders (several processes)" for an aggregate over captures of different pids.</summary>
    public static string ProcessTitle(SessionTarget target) =>
        target.Pid == 0 ? $"{target.ProcessName} (several processes)" : $"{target.ProcessName} (pid {Integer(target.Pid)})";

    /// <summary>"session 3", or for an aggregated profile "sessions 3, 4, 7 (3 captures)".</summary>
    public static string SessionIds(Profile profile) => profile.Sessions.Count == 1
        ? "session " + Integer(profile.Session.Id)
        : $"sessions {string.Join(", ", profile.Sessions.Select(s => Integer(s.Id)))} ({Integer(profile.Sessions.Count)} captures)";

    /// <summary>"100 Hz", "97.3 Hz".</summary>
    public static string Rate(double hz) => hz.ToString("0.#", Invariant) + " Hz";

    /// <summary>How long the capture ran: start to end, or to the last snapshot while a session is still open.</summary>
    public static string SessionDuration(Profile profile)
    {
        var session = profile.Session;
        if (session.EndedUtc is { } ended) return Duration(ended - session.StartedUtc);
        var lastUs = profile.Snapshots.Count == 0 ? 0 : profile.Snapshots[^1].OffsetUs;
        return Duration(TimeSpan.FromMicroseconds(lastUs)) + " so far";
    }

    /// <summary>Snapper's own errors during a capture, in one line: "3 snapshots lost to Snapper errors (a bug: please report it): 2 x ...; 1 x ...".</summary>
    public static string InternalErrors(IReadOnlyList<InternalError> errors)
    {
        var total = errors.Sum(e => e.Count);
        return $"{Count(total)} snapshot{(total == 1 ? "" : "s")} lost to Snapper errors (a bug: please report it): "
            + string.Join("; ", errors.Select(e => $"{Count(e.Count)} x {e.Reason}"));
    }

    /// <summary>How the capture ended, in words; the recorded message (a failure's cause) appended when there is one.</summary>
    public static string EndReason(SessionInfo session)
    {
        var reason = session.EndReason switch
        {
            SessionEndReason.Running => "still running (or Snapper was killed)",
            SessionEndReason.CountReached => "snapshot count reached",
            SessionEndReason.DurationReached => "duration reached",
            SessionEndReason.Interrupted => "interrupted",
            SessionEndReason.TargetExited => "target exited",
            SessionEndReason.Failed => "failed",
            SessionEndReason.Abandoned => "abandoned (Snapper stopped without recording an end)",
            SessionEndReason.FocusCountReached => "focused sample count reached",
            var other => other.ToString(),
        };
        return session.EndMessage is { Length: > 0 } message ? reason + ": " + message : reason;
    }
}
