using Snapper.Store;

namespace Snapper.Report.Export;

/// <summary>
/// A quantity each sample carries besides being counted once, such as the wall-clock time it stands for.
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
        return [new SampleWeight("wall", "nanoseconds", "wall time", _ => period)];
    }
}
