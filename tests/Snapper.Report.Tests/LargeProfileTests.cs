namespace Snapper.Report.Tests;

/// <summary>
/// A million samples over twenty thousand stacks: the analysis stays exact and the HTML stays bounded. How fast
/// this runs is a benchmark's business, not a test's: a timed test only measures how busy the machine is.
/// </summary>
[Collection(LargeProfileCollection.Name)]
public sealed class LargeProfileTests
{
    /// <summary>One profile for both tests: building it takes longer than analysing it.</summary>
    static readonly Lazy<Snapper.Store.Profile> Large = new(() => ProfileAnalysisTests.LargeProfile(samples: 1_000_000, stacks: 20_000, threads: 16));

    [Fact]
    public void Analysis_of_a_million_samples_over_twenty_thousand_stacks_is_exact()
    {
        var profile = Large.Value;
        // At the HTML report's threshold, the finest any report uses.
        var analysis = ProfileAnalysis.Analyze(profile, 0.01);

        Assert.Equal(1_000_000, analysis.TotalSamples);
        Assert.Equal(1_000_000, analysis.CallTree.Total);
        Assert.Equal(20_000, profile.Samples.Select(s => s.StackId).Distinct().Count());
    }

    [Fact]
    public void Html_report_of_a_large_profile_is_bounded()
    {
        var html = HtmlReportTests.Html(Large.Value);

        Assert.True(html.Length < 10_000_000, $"HTML report is {html.Length} characters");
    }
}
