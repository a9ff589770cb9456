using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// The session numbers every report prints. The store records totals only when a session ends, so for a session
/// still running (or abandoned) they are worked out from the loaded snapshots instead of printing zeros.
/// Counts always come from the loaded data, so they agree with the percentages computed from it.
/// </summary>
/// <param name="WeightedRate">Snapshots a second each counted by its weight (<see cref="Snapshot.Weight"/>): the rate of
/// the requested intervals they stand for. The achieved rate when the overhead budget never lowered it.</param>
sealed record SessionFacts(int Snapshots, long Samples, PauseStats Pause, double AchievedRate, double WeightedRate)
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
        var weighted = rate;
        if (snapshots.Count > 1 && snapshots.Any(s => s.Weight != 1) && snapshots[^1].OffsetUs > snapshots[0].OffsetUs)
            weighted = snapshots.Skip(1).Sum(s => (long)s.Weight) * 1_000_000.0 / (snapshots[^1].OffsetUs - snapshots[0].OffsetUs);
        return new SessionFacts(snapshots.Count, profile.Samples.Sum(s => (long)s.Wall), pause, rate, weighted);
    }
}
