using System.Diagnostics;
using Xunit.Abstractions;

namespace Snapper.Report.Tests;

[Collection(PerformanceCollection.Name)]
public sealed class PerformanceTests(ITestOutputHelper output)
{
    /// <summary>One profile for both tests: building it takes longer than analysing it.</summary>
    static readonly Lazy<Snapper.Store.Profile> Large = new(() => ProfileAnalysisTests.LargeProfile(samples: 1_000_000, stacks: 20_000, threads: 16));

    /// <summary>Best of three: the first run pays for JIT, and a shared CI agent has hiccups.</summary>
    static TimeSpan Best(Action action)
    {
        var best = TimeSpan.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var watch = Stopwatch.StartNew();
            action();
            if (watch.Elapsed < best) best = watch.Elapsed;
        }
        return best;
    }

    [Fact]
    public void Analysis_scales_to_a_million_samples_over_twenty_thousand_stacks()
    {
        var profile = Large.Value;
        ProfileAnalysis analysis = null!;
        // At the HTML report's threshold, the finest any report uses.
        var best = Best(() => analysis = ProfileAnalysis.Analyze(profile, 0.01));
        output.WriteLine($"analysis of 1M samples / 20k stacks: {best.TotalMilliseconds:0} ms");

        Assert.Equal(1_000_000, analysis.TotalSamples);
        Assert.Equal(1_000_000, analysis.CallTree.Total);
        Assert.Equal(20_000, profile.Samples.Select(s => s.StackId).Distinct().Count());
        // About 0.1 s in Release on a quiet machine; the bound leaves room for a Debug build on a busy agent.
        Assert.True(best < TimeSpan.FromSeconds(1), $"analysis took {best.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void Html_report_of_a_large_profile_is_quick_and_bounded()
    {
        var profile = Large.Value;
        var html = "";
        var best = Best(() => html = HtmlReportTests.Html(profile));
        output.WriteLine($"HTML report of 1M samples / 20k stacks: {best.TotalMilliseconds:0} ms, {html.Length:N0} characters");

        Assert.True(best < TimeSpan.FromSeconds(3), $"HTML report took {best.TotalMilliseconds:0} ms");
        Assert.True(html.Length < 10_000_000, $"HTML report is {html.Length} characters");
    }
}
