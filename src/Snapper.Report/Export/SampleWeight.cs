using Snapper.Store;

namespace Snapper.Report.Export;

/// <summary>
/// A quantity each sample carries besides being counted once: the wall-clock time it stands for, and the CPU time
/// its thread used where the store has it.
/// <see cref="Type"/> and <see cref="Unit"/> use pprof's words (<c>wall</c>, <c>nanoseconds</c>), which speedscope's
/// units include too.
/// </summary>
sealed record SampleWeight(string Type, string Unit, string Title, Func<Sample, long> ValueOf)
{
    /// <summary>
    /// Every weight the profile has, in the order the exports list them. This is the one place a new per-sample
    /// measure (such as CPU time) is added: speedscope gets a set of profiles for it and pprof a sample type.
    /// </summary>
    public static IReadOnlyList<SampleWeight> For(Profile profile)
    {
        var period = SamplingPeriod.Nanoseconds(profile);
        var wall = new SampleWeight("wall", "nanoseconds", "wall time", s => period * s.Wall);
        // A sample's CPU time is what its thread used since its previous sample, charged by the rule of BetweenSamples.
        // Stores written before CPU time was recorded have 0 everywhere: no CPU weight rather than an empty one.
        return profile.Samples.Any(s => s.CpuNs > 0)
            ? [wall, new SampleWeight("cpu", "nanoseconds", "CPU time", s => s.CpuNs)]
            : [wall];
    }
}
