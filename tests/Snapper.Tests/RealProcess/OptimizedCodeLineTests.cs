using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// A Release build runs its hot code in versions compiled after the first (on-stack replacement of a long loop,
/// tier 1): their frames have lines too. The tests' own targets are Debug builds, which the JIT never recompiles,
/// so this one builds the test target in Release first.
/// </summary>
public sealed class OptimizedCodeLineTests
{
    [Fact]
    public void A_loop_running_in_recompiled_code_has_its_line()
    {
        using var dir = new TempDirectory();
        var dll = BuildRelease(dir.File("release"));
        using var target = RunningTarget.Start(dll, ["mixed"]);
        // Let the loop be replaced on the stack by optimised code (it is, after some thousands of iterations).
        Thread.Sleep(500);
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "40", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 0, result.ToString());
        var source = Path.Combine(Repository.Root, "tests", "Snapper.TestTarget", "Mixed.cs");
        var loop = Array.FindIndex(File.ReadAllLines(source), l => l.Contains("while (true) { x = x * 31 + 7; Sink = x; }", StringComparison.Ordinal)) + 1;
        var leaves = ProfileQueries.StacksOf(ProfileQueries.LoadLatest(db), "Spinner").Select(s => s[^1])
            .Where(f => f.TypeName == "Snapper.TestTarget.Spinner" && f.MethodName == "Spin").ToList();
        Assert.True(leaves.Count >= 30, $"{leaves.Count} samples end in Spin");
        Assert.All(leaves, f => Assert.Equal(("Mixed.cs", loop), (Path.GetFileName(f.File), f.Line)));
    }

    static string BuildRelease(string output)
    {
        Dotnet.Release("build", Path.Combine(Repository.Root, "tests", "Snapper.TestTarget", "Snapper.TestTarget.csproj"), output);
        return Path.Combine(output, "Snapper.TestTarget.dll");
    }
}
