using System.Runtime.CompilerServices;

namespace Snapper.Report.Tests;

/// <summary>
/// Exact comparison with files under Golden/. Set SNAPPER_UPDATE_GOLDEN=1 to rewrite them from the current output,
/// then review the diff before committing.
/// </summary>
static class Golden
{
    public static void AssertMatches(string fileName, string actual)
    {
        var path = Path.Combine(SourceDirectory(), "Golden", fileName);
        if (Environment.GetEnvironmentVariable("SNAPPER_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"golden file {path} is missing; run the tests with SNAPPER_UPDATE_GOLDEN=1 to create it");
        var expected = File.ReadAllText(path);
        if (expected != actual)
        {
            File.WriteAllText(path + ".actual", actual);
            Assert.Fail($"output differs from {path}; the actual output is in {path}.actual. " +
                        "If the change is intended, rerun with SNAPPER_UPDATE_GOLDEN=1 and review the diff.");
        }
    }

    /// <summary>The golden files live with the sources, not in bin/, so an update lands where git sees it.</summary>
    static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
