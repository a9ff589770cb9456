namespace Snapper.Sampling;

/// <summary>
/// When to take snapshots and when to stop. <see cref="Count"/> and <see cref="Duration"/> may both be set: the first
/// reached ends the capture. <see cref="Jitter"/> is the fraction of the interval by which each wait varies at random,
/// so sampling never runs in lock-step with periodic work in the target.
/// </summary>
public sealed record SamplingPlan(TimeSpan Interval, int? Count, TimeSpan? Duration, double Jitter = 0.1)
{
    public double RequestedRate => 1.0 / Interval.TotalSeconds;
}
