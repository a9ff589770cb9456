using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// The session numbers every report prints. The store records totals only when a session ends, so for a session
/// still running (or abandoned) they are worked out from the loaded snapshots instead of printing zeros.
/// Counts always come from the loaded data, so they agree with the percentages computed from it.
/// </summary>
sealed record SessionFacts(int Snapshots, long Samples, PauseStats Pause, double AchievedRate)
{
    public static SessionFacts Of(Profile profile)
    {
        var session = profile.Session;
        var snapshots = profile.Snapshots;
        var pause = session.Pause;
        if (pause == PauseStats.None && snapshots.Count > 0)
            pause = PauseStats.From(snapshots.Select(s => s.PauseUs).ToList());
        var rate = session.AchievedRate;
        if (rate <= 0 && snapshots.Count > 1)
        {
            // Same rule as the store: n snapshots make n-1 intervals.
            var span = snapshots[^1].OffsetUs - snapshots[0].OffsetUs;
            if (span > 0) rate = (snapshots.Count - 1) * 1_000_000.0 / span;
        }
        return new SessionFacts(snapshots.Count, profile.Samples.Sum(s => (long)s.Wall), pause, rate);
    }
}
