using System.Diagnostics;
using static Microsoft.Playwright.Assertions;

namespace Snapper.Browser.Tests;

/// <summary>The report of a real capture (the demo: snapper starts its example target, samples it, stops it) in a browser.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class RealReportBrowserTests(Chromium chromium)
{
    [SkippableFact]
    public async Task The_demo_report_renders_and_reacts()
    {
        var browser = chromium.Require();
        var directory = Directory.CreateTempSubdirectory("snapper-demo-browser-").FullName;
        var report = Path.Combine(directory, "report.html");
        var demo = Process.Start(new ProcessStartInfo("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "snapper.dll"), "demo", "--db", Path.Combine(directory, "demo.db"), "--report", report, "--count", "60"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = demo.StandardOutput.ReadToEndAsync();
        var errors = demo.StandardError.ReadToEndAsync();
        Assert.True(demo.WaitForExit(120_000), "snapper demo did not finish");
        Assert.True(demo.ExitCode == 0, $"snapper demo failed: {await output} {await errors}");

        await using var page = await ReportPage.OpenFileAsync(browser, directory, report);
        var status = page.Page.Locator("#view-status");
        await Expect(status).ToContainTextAsync("Showing");
        var before = await status.InnerTextAsync();

        await page.Page.FillAsync("#flame-search", "PriceCalculator");
        await Expect(page.Page.Locator("#flame-match")).Not.ToHaveTextAsync("matching frames: 0.0% of the view");
        await page.Page.Locator("tr", new() { HasText = "PriceCalculator" }).Locator("input.thread-pick").UncheckAsync();
        await Expect(status).Not.ToHaveTextAsync(before);
        // Collapsed, threads show their outermost frame only; opening that one shows the next.
        await page.Page.ClickAsync("#tree-collapse");
        await Expect(page.Page.Locator("#tree-box .row", new() { HasText = "System.Threading.Thread.StartCallback" })).ToHaveCountAsync(0);
        var waiter = page.Page.Locator("xpath=//div[div[contains(@class,'row')][contains(.,'InventoryWaiter')]]/div[@class='kids']/div/div[contains(@class,'row')]");
        await waiter.First.ClickAsync();
        await Expect(page.Page.Locator("#tree-box .row", new() { HasText = "System.Threading.Thread.StartCallback" })).ToHaveCountAsync(1);
        Assert.Empty(page.Problems);
    }
}
