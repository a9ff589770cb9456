namespace Snapper.Report.Tests;

/// <summary>
/// Timed tests run on their own, after the others: in parallel with each other (each builds a million-sample
/// profile) they would measure the garbage collector's contention rather than the code.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PerformanceCollection
{
    public const string Name = "Performance";
}
