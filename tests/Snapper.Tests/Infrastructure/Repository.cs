namespace Snapper.Tests.Infrastructure;

/// <summary>Where the repository is, for tests that read its files (examples, the test target's source).</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Snapper.sln"))) return dir.FullName;
        throw new InvalidOperationException("Snapper.sln not found above " + AppContext.BaseDirectory);
    }
}
