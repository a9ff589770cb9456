using System.Text.Json;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// sample --max-overhead on a real process: a budget the capture exceeds lowers the rate, the session records it,
/// and each sample counts for the intervals its snapshot stood for. The target: the "states" program (a thread spinning
/// on a CPU, others asleep, in I/O or waiting on a lock).
/// </summary>
public sealed class OverheadBudgetTests
{
    [Fact]
    public void A_budget_lowers_the_rate_records_when_and_counts_each_sample_for_the_intervals_it_stands_for()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("states");
        var db = dir.File("s.db");
        // 0.5%: at 100 Hz any Snapper takes more than that of a core (the Debug build these tests run, several times more).
        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--duration", "8s", "--db", db, "--no-report", "--max-overhead", "0.5%");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("of 0.5% budget, rate lowered to", result.Stdout);

        var profile = ProfileQueries.LoadLatest(db);
        var overhead = profile.Session.Overhead ?? throw new Xunit.Sdk.XunitException("no overhead recorded");
        Assert.Equal(0.005, overhead.Budget);
        Assert.NotEmpty(overhead.Changes);
        Assert.Contains(profile.Snapshots, s => s.Weight > 1);
        // The weights stand for the capture's intervals: about 8 s at 100 Hz (the last snapshot's slot may reach past the end).
        var intervals = profile.Snapshots.Sum(s => s.Weight);
        Assert.True(intervals is >= 400 and <= 1_200, $"{intervals} intervals in {profile.Snapshots.Count} snapshots");
        // Every thread sample counts its snapshot's weight.
        var weights = profile.Snapshots.ToDictionary(s => s.Sequence, s => s.Weight);
        Assert.All(profile.Samples.Where(s => s.Activity != SampleActivity.BetweenSamples), s => Assert.Equal(weights[s.Sequence], s.Wall));
        var spinner = profile.Threads.Single(t => t.Name == "Busy spinner");
        var spinning = profile.Samples.Where(s => s.ThreadId == spinner.Id && s.Wall > 0).ToList();
        Assert.True(spinning.Sum(s => s.Wall) * 1.0 / intervals >= 0.9, "the spinner is in nearly every interval");

        // The report says what the budget did.
        var json = SnapperCli.Run("report", "--db", db, "--format", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Stdout);
        var reported = document.RootElement.GetProperty("session").GetProperty("overhead");
        Assert.Equal(0.005, reported.GetProperty("budget").GetDouble());
        Assert.Equal(overhead.Changes.Count, reported.GetProperty("rateChanges").GetArrayLength());
        Assert.Equal(profile.Samples.Sum(s => (long)s.Wall), document.RootElement.GetProperty("session").GetProperty("samples").GetInt64());
        var text = SnapperCli.Run("report", "--db", db, "--format", "text");
        Assert.Contains("budget 0.5%: rate to", text.Stdout);
        Assert.Contains("of 0.5%", SnapperCli.Run("sessions", "--db", db).Stdout);
    }

    [Fact]
    public void The_default_budget_is_ten_percent_and_two_for_unattended_captures()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("states");
        var db = dir.File("s.db");
        var byHand = SnapperCli.Run(SnapperCli.StartInfoAsGiven("sample", "--pid", target.Pid.ToString(), "--count", "20", "--db", db, "--no-report"));
        Assert.True(byHand.ExitCode == 0, byHand.ToString());
        Assert.Contains("(overhead at most 10%)", byHand.Stdout);
        var unattended = SnapperCli.Run(SnapperCli.StartInfoAsGiven("sample", "--name", "Snapper.TestTarget", "--if-running", "--count", "20", "--db", db, "--no-report", "--quiet"));
        Assert.True(unattended.ExitCode == 0, unattended.ToString());
        var off = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "20", "--db", db, "--no-report", "--max-overhead", "off");
        Assert.True(off.ExitCode == 0, off.ToString());

        using var store = SnapperDatabase.Open(db, create: false);
        Assert.Equal([0.10, 0.02, null], SessionQueries.List(store).Select(s => s.Overhead?.Budget));
        Assert.All(SessionQueries.List(store), s => Assert.True(s.Overhead!.CpuShare > 0, "Snapper's CPU measured"));
    }

    [Theory]
    [InlineData("0%")]
    [InlineData("150%")]
    [InlineData("lots")]
    public void A_budget_that_is_no_percentage_is_refused_in_one_line(string budget)
    {
        using var dir = new TempDirectory();
        CliErrorTests.AssertError(SnapperCli.Run("sample", "--pid", Environment.ProcessId.ToString(), "--db", dir.File("s.db"), "--max-overhead", budget),
            2, "--max-overhead must be a percentage");
    }
}
