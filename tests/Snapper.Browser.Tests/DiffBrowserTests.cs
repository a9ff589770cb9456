using Snapper.Report;
using Snapper.Report.Tests;
using Snapper.Store;
using static Microsoft.Playwright.Assertions;
using static Snapper.Report.Tests.ProfileBuilder;

namespace Snapper.Browser.Tests;

/// <summary>The diff page in a browser: it draws the differential flame graph and runs nothing a target named.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class DiffBrowserTests(Chromium chromium)
{
    [SkippableFact]
    public async Task The_diff_page_draws_and_zooms_without_errors()
    {
        var browser = chromium.Require();
        var b = new ProfileBuilder();
        var thread = b.Thread(1, "<img src=x onerror=window.__pwned=1>");
        b.Sample(thread, b.Stack(Managed("Program", "Main"), Managed("<script>window.__pwned=2</script>", "Run")), 10, SampleState.Cpu);
        var diff = ProfileDiff.Compute(SampleProfiles.Demo(), b.Build(), ReportOptions.Default);
        var directory = Directory.CreateTempSubdirectory("snapper-diff-browser-").FullName;
        var path = Path.Combine(directory, "diff.html");
        using (var file = new StreamWriter(path))
            DiffHtmlWriter.Write(diff, new DiffSides("session 1", "session 2"), file);

        await using var page = await ReportPage.OpenFileAsync(browser, directory, path);
        Assert.True(await page.Page.Locator("#flame-canvas").EvaluateAsync<int>("c => c.height") > 0);
        var height = (await page.Page.Locator("#flame-canvas").BoundingBoxAsync())!.Height;
        await page.Page.Locator("#flame-canvas").ClickAsync(new() { Position = new() { X = 20, Y = height - 18 - 9 } });
        await Expect(page.Page.Locator("#flame-path button")).ToHaveTextAsync(["all threads", "Program.Main"]);
        await Expect(page.Page.Locator("#regressions")).ToContainTextAsync("<script>window.__pwned=2</script>.Run");
        Assert.Null(await page.Page.EvaluateAsync<int?>("() => window.__pwned"));
        Assert.Empty(page.Problems);
    }
}
