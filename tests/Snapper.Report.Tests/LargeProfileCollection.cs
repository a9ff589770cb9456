namespace Snapper.Report.Tests;

/// <summary>Million-sample tests run on their own: each builds a large profile, and together they would crowd memory.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LargeProfileCollection
{
    public const string Name = "LargeProfile";
}
