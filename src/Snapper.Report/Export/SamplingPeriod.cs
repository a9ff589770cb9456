using Snapper.Store;

namespace Snapper.Report.Export;

/// <summary>
/// The wall-clock time one sample of weight 1 stands for: the session's achieved interval, 1 / achieved rate (the span
/// from the first to the last snapshot divided by the intervals in it, each snapshot counting its weight: see
/// <see cref="Snapshot.Weight"/>), rounded to the nanosecond. A sample counts its weight times, so wall time is always weighted samples × period and every ratio an exporting tool shows equals the sample-count
/// ratio of <c>snapper report</c>. Per-snapshot gaps would mostly add the sampler's random placement of each snapshot in its interval, not information,
/// and pprof has room for one period only. A session of one snapshot has no interval; its requested one is used.
/// </summary>
static class SamplingPeriod
{
    public static long Nanoseconds(Profile profile)
    {
        var achieved = SessionFacts.Of(profile).WeightedRate;
        var rate = achieved > 0 ? achieved : profile.Session.Target.RequestedRate;
        return rate > 0 ? (long)Math.Round(1e9 / rate) : 0;
    }
}
