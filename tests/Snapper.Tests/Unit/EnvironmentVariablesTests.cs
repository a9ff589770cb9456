using System.Text.RegularExpressions;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.Unit;

/// <summary>
/// Every SNAPPER_* variable the source reads is listed in docs/environment.md, and every one listed is read: a test hook
/// cannot ship unannounced, and the page cannot promise a switch that is gone (issue 23).
/// </summary>
public sealed class EnvironmentVariablesTests
{
    [Fact]
    public void The_variables_the_source_reads_are_the_ones_the_docs_list()
    {
        var pattern = new Regex("SNAPPER_[A-Z_]+[A-Z]");
        var inSource = Directory.EnumerateFiles(Path.Combine(Repository.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(path => pattern.Matches(File.ReadAllText(path)).Select(m => m.Value))
            .ToHashSet();
        var doc = File.ReadAllText(Path.Combine(Repository.Root, "docs", "environment.md"));
        var listed = Regex.Matches(doc, @"^\| `(SNAPPER_[A-Z_]+)`", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();

        Assert.NotEmpty(inSource);
        Assert.Empty(inSource.Except(listed));
        Assert.Empty(listed.Except(inSource));
    }
}
