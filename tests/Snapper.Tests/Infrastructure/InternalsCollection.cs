namespace Snapper.Tests.Infrastructure;

/// <summary>The test classes that read one "internals" target between them (see <see cref="InternalsTarget"/>).</summary>
[CollectionDefinition(Name)]
public sealed class InternalsCollection : ICollectionFixture<InternalsTarget>
{
    public const string Name = "internals target";
}
