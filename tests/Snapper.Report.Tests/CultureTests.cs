using System.Globalization;

namespace Snapper.Report.Tests;

/// <summary>Every writer must produce the same bytes whatever the current culture.</summary>
public sealed class CultureTests
{
    /// <summary>
    /// de-DE when the runtime has it, with its separators forced either way: the build runs with invariant
    /// globalization, where de-DE does not exist, and the test must still bite.
    /// </summary>
    static CultureInfo Hostile()
    {
        CultureInfo culture;
        try { culture = (CultureInfo)new CultureInfo("de-DE").Clone(); }
        catch (CultureNotFoundException) { culture = (CultureInfo)CultureInfo.InvariantCulture.Clone(); }
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NumberGroupSeparator = ".";
        culture.NumberFormat.PercentDecimalSeparator = ",";
        culture.NumberFormat.PercentGroupSeparator = ".";
        culture.NumberFormat.NegativeSign = "\u2212";
        culture.DateTimeFormat.DateSeparator = ".";
        culture.DateTimeFormat.TimeSeparator = ",";
        return culture;
    }

    static string Under(CultureInfo culture, Func<string> write)
    {
        var (current, ui) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        try
        {
            CultureInfo.CurrentCulture = culture;
            CultureInfo.CurrentUICulture = culture;
            return write();
        }
        finally
        {
            CultureInfo.CurrentCulture = current;
            CultureInfo.CurrentUICulture = ui;
        }
    }

    public static TheoryData<string> Writers => new() { "text", "json", "html" };

    static string Write(string writer) => writer switch
    {
        "text" => GoldenReportTests.Text(SampleProfiles.Demo()),
        "json" => GoldenReportTests.Json(SampleProfiles.Demo()),
        _ => HtmlReportTests.Html(SampleProfiles.Demo()),
    };

    [Theory]
    [MemberData(nameof(Writers))]
    public void Output_does_not_depend_on_the_current_culture(string writer)
    {
        var invariant = Under(CultureInfo.InvariantCulture, () => Write(writer));
        var german = Under(Hostile(), () => Write(writer));

        Assert.Equal(invariant, german);
        var number = writer == "json" ? "\"achievedRate\": 99.25" : "0.84 ms"; // same fact, each writer's way
        Assert.Contains(number, german);
        Assert.DoesNotContain("0,84", german);
        Assert.DoesNotContain("99,25", german);
        Assert.DoesNotContain("\u2212", german);
    }

    [Fact]
    public void Numbers_use_points_and_comma_thousands()
    {
        var text = Under(Hostile(), () => GoldenReportTests.Text(ProfileAnalysisTests.LargeProfile(samples: 12_345, stacks: 50, threads: 2)));

        Assert.Contains("12,345 thread samples", text);
        Assert.Contains("p50 0.84 ms", text);
        Assert.Contains("2025-01-31 14:05:09 UTC", text);
    }
}
