using Snapper.Report;
using Snapper.Report.Tests;
using Snapper.Store;
using static Snapper.Report.Tests.ProfileBuilder;

namespace Snapper.Browser.Tests;

/// <summary>The HTML report in a real browser: it renders, reacts, and never runs what a target named.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class ReportBrowserTests(Chromium chromium)
{
    [SkippableFact]
    public async Task Renders_every_part_without_errors_or_requests()
    {
        await using var report = await ReportPage.OpenAsync(chromium.Require(), SampleProfiles.Service());

        Assert.Empty(report.Problems);
        Assert.StartsWith("Showing", await report.TextAsync("#view-status"));
        Assert.True(await report.Page.Locator("#flame-canvas").EvaluateAsync<int>("c => c.height") > 0, "the flame graph drew nothing");
        Assert.True(await report.Page.Locator("#functions-box table.functions tbody tr").CountAsync() > 10);
        Assert.True(await report.Page.Locator("#tree-box .row").CountAsync() > 10);
    }

    [SkippableFact]
    public async Task Clicking_a_flame_graph_frame_zooms_into_it()
    {
        await using var report = await ReportPage.OpenAsync(chromium.Require(), SampleProfiles.Demo());
        var canvas = report.Page.Locator("#flame-canvas");
        Assert.Equal(["all threads"], await report.Page.Locator("#flame-path button").AllInnerTextsAsync());

        // Row 1 (18 px high) holds the threads, the busiest first at the left.
        await canvas.ClickAsync(new() { Position = new() { X = 20, Y = 18 + 9 } });

        Assert.Equal(["all threads", "Main (tid 1001)"], await report.Page.Locator("#flame-path button").AllInnerTextsAsync());
        await report.Page.Keyboard.PressAsync("Escape");
        Assert.Equal(["all threads"], await report.Page.Locator("#flame-path button").AllInnerTextsAsync());
        Assert.Empty(report.Problems);
    }

    [SkippableFact]
    public async Task The_call_tree_expands_and_collapses()
    {
        await using var report = await ReportPage.OpenAsync(chromium.Require(), SampleProfiles.Demo());
        var rows = report.Page.Locator("#tree-box .row");
        var before = await rows.CountAsync();

        await report.Page.ClickAsync("#tree-collapse");
        var collapsed = await rows.CountAsync();
        await report.Page.Locator("#tree-box .row", new() { HasText = "Main (tid 1001)" }).ClickAsync(); // opened at depth 1: closes
        await report.Page.Locator("#tree-box .row", new() { HasText = "Main (tid 1001)" }).ClickAsync(); // and opens again
        await report.Page.Locator("#tree-box .row", new() { HasText = "Program.Main" }).ClickAsync();

        Assert.True(collapsed < before, $"collapse all left {collapsed} of {before} rows");
        Assert.Equal(1, await report.Page.Locator("#tree-box .row", new() { HasText = "Server.Run" }).CountAsync());
        Assert.Empty(report.Problems);
    }

    [SkippableFact]
    public async Task Unticking_a_thread_and_switching_views_change_the_numbers()
    {
        await using var report = await ReportPage.OpenAsync(chromium.Require(), SampleProfiles.Demo());
        Assert.Contains("Showing 100 samples from 3 threads", await report.TextAsync("#view-status"));

        await report.Page.Locator("tr", new() { HasText = "Main (tid 1001)" }).Locator("input.thread-pick").UncheckAsync();
        Assert.Contains("Showing 40 samples from 2 threads", await report.TextAsync("#view-status"));
        Assert.Equal(0, await report.Page.Locator("#functions-box td.name", new() { HasText = "Parser.Parse" }).CountAsync());

        await report.Page.ClickAsync("#threads-all");
        await report.Page.CheckAsync("input[name=states][value=cpu]");
        Assert.Contains("Showing 55 samples from 1 thread", await report.TextAsync("#view-status"));

        await report.Page.CheckAsync("input[name=weight][value=cpu]");
        Assert.Contains("535.0 ms of CPU time", await report.TextAsync("#view-status"));

        await report.Page.CheckAsync("input[name=states][value=all]");
        await report.Page.CheckAsync("input[name=weight][value=samples]");
        await report.Page.CheckAsync("#idle");
        Assert.Contains("Showing 108 samples from 4 threads", await report.TextAsync("#view-status"));
        Assert.Empty(report.Problems);
    }

    [SkippableFact]
    public async Task A_type_named_like_markup_renders_as_text_and_runs_nothing()
    {
        const string Type = "<img src=x onerror=window.__pwned=1>";
        var b = new ProfileBuilder();
        var thread = b.Thread(1, "<script>window.__pwned=2</script>");
        b.Sample(thread, b.Stack(Managed("Program", "Main"), Managed(Type, "Run")), 20, SampleState.Cpu, 1_000_000);
        await using var report = await ReportPage.OpenAsync(chromium.Require(), b.Build());

        Assert.Null(await report.Page.EvaluateAsync<int?>("() => window.__pwned"));
        Assert.Equal(0, await report.Page.Locator("img").CountAsync());
        Assert.Contains(Type + ".Run", await report.TextAsync("#functions-box"));
        Assert.Contains("<script>window.__pwned=2</script> (tid 1001)", await report.TextAsync("#threads"));
        Assert.Empty(report.Problems);
    }
}
