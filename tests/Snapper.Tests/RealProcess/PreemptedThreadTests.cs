using System.Globalization;
using System.Text.RegularExpressions;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// With more spinning threads than CPUs, some are always waiting for a CPU when a sample is taken; the fast engine
/// reads those from their saved registers without stopping them. Their stacks must be as right as stopped ones: every
/// sample of every spinner in Bench.Work (or the Bench.Unit it calls), below the same callers.
/// (SNAPPER_THREAD_SURVEY=proc turns that way off: the same stacks are then all read from stops.)
/// </summary>
public sealed partial class PreemptedThreadTests
{
    [Fact]
    public void Threads_waiting_for_a_CPU_are_read_without_a_stop_and_keep_their_stacks()
    {
        var spinning = 2 * Environment.ProcessorCount + 1;
        using var dir = new TempDirectory();
        using var target = ThreadSurveyTests.BenchTarget(spinning, blocked: 2);
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(CultureInfo.InvariantCulture), "--count", "300", "--rate", "100",
            "--db", db, "--no-report", "--verbose");

        Assert.True(result.ExitCode == 0, result.ToString());
        var unstopped = UnstoppedPerSample().Match(result.Stdout);
        Assert.True(unstopped.Success, result.Stdout);
        if (Environment.GetEnvironmentVariable("SNAPPER_THREAD_SURVEY") != "proc")
            Assert.True(double.Parse(unstopped.Groups[1].Value, CultureInfo.InvariantCulture) >= 0.5, result.Stdout);
        var profile = ProfileQueries.LoadLatest(db);
        for (var i = 0; i < spinning; i++)
        {
            var stacks = ProfileQueries.StacksOf(profile, $"Worker-{i}");
            Assert.True(stacks.Count >= 290, $"Worker-{i}: {stacks.Count} samples");
            var callers = stacks.Select(s => ProfileQueries.Describe(s[..Array.FindIndex(s, f => f.DisplayName == "Snapper.TestTarget.Bench.Work")])).Distinct().ToList();
            Assert.True(stacks.All(s => s.Any(f => f.DisplayName == "Snapper.TestTarget.Bench.Work")),
                $"Worker-{i}: " + string.Join("\n", stacks.Select(ProfileQueries.Describe).Distinct()));
            Assert.Single(callers);
            // Inside Work: in Work itself, or in what it calls (Unit, and Volatile.Write when not inlined, at tier 0).
            var called = stacks.Select(s => s.SkipWhile(f => f.DisplayName != "Snapper.TestTarget.Bench.Work").Skip(1).FirstOrDefault()?.DisplayName);
            Assert.All(called, name => Assert.True(name is null or "Snapper.TestTarget.Bench.Unit" or "System.Threading.Volatile.Write", name));
        }
    }

    [GeneratedRegex(@"([0-9.]+) looping threads waiting for a CPU read without a stop")]
    private static partial Regex UnstoppedPerSample();
}
