using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>Managed frames carry the file and line of their statement, from the PDB beside the assembly.</summary>
public sealed class SourceLineTests
{
    [Fact]
    public void The_executing_statement_and_each_callers_call_site_have_their_line()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "60", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 0, result.ToString());
        var stacks = ProfileQueries.StacksOf(ProfileQueries.LoadLatest(db), "Spinner");
        var source = Path.Combine(Repository.Root, "tests", "Snapper.TestTarget", "Mixed.cs");
        var loop = LineOf(source, "while (true) { x = x * 31 + 7; Sink = x; }", after: "static class Spinner");
        var call = LineOf(source, "new Thread(() => { started.Signal(); body(); })", after: "static void Start(");

        // The leaf: the loop's line. The caller, a lambda: the line of its call to body().
        var leaves = stacks.Select(s => s[^1]).Where(f => f.TypeName == "Snapper.TestTarget.Spinner" && f.MethodName == "Spin").ToList();
        Assert.True(leaves.Count >= 50, $"{leaves.Count} of {stacks.Count} samples end in Spin");
        Assert.All(leaves, f => Assert.Equal(("Mixed.cs", loop), (Path.GetFileName(f.File), f.Line)));
        var callers = stacks.Select(s => s[^2]).Where(f => f.TypeName.StartsWith("Snapper.TestTarget.Scenarios", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(callers);
        Assert.All(callers, f => Assert.Equal(("Mixed.cs", call), (Path.GetFileName(f.File), f.Line)));
        // No PDB ships beside the framework here: its frames say nothing rather than something wrong.
        Assert.All(stacks.SelectMany(s => s).Where(f => f.Module == "System.Private.CoreLib.dll"), f => Assert.Equal((null, 0), (f.File, f.Line)));
    }

    /// <summary>The 1-based line of the first line holding <paramref name="text"/> after the first holding <paramref name="after"/>.</summary>
    internal static int LineOf(string file, string text, string after)
    {
        var lines = File.ReadAllLines(file);
        var start = Array.FindIndex(lines, l => l.Contains(after, StringComparison.Ordinal));
        var index = Array.FindIndex(lines, start, l => l.Contains(text, StringComparison.Ordinal));
        Assert.True(start >= 0 && index >= 0, $"'{text}' not found in {file}");
        return index + 1;
    }

}
