namespace Snapper.Sampling;

/// <summary>
/// When to take snapshots and when to stop. <see cref="Count"/> and <see cref="Duration"/> may both be set: the first
/// reached ends the capture.
/// </summary>
/// <param name="Jitter">
/// The fraction of its interval over which each snapshot's moment is drawn at random: 1 (the default) takes each
/// snapshot at a uniformly random moment within its own interval, 0 at the interval's start. Periodic work in the
/// target is then seen in proportion to its share whatever its period: with each wait varied by only ±10%, a 10 ms
/// sampler kept nearly the same phase to a thread that worked 3 ms every 50 ms for thousands of samples, and its share
/// over a minute scattered twice as widely (0.56 points, simulated) as independent samples' would (0.3).
/// </param>
public sealed record SamplingPlan(TimeSpan Interval, int? Count, TimeSpan? Duration, double Jitter = 1)
{
    public double RequestedRate => 1.0 / Interval.TotalSeconds;
}
