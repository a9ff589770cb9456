using Snapper.Report;
using Snapper.Report.Tests;
using Snapper.Store;
using static Microsoft.Playwright.Assertions;
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

    /// <summary>
    /// The page counts its functions in its script, the text and JSON reports in ProfileAnalysis (C#): the same profile
    /// must give the same self and total samples for every function the page lists (issue 23).
    /// </summary>
    [SkippableFact]
    public async Task The_pages_function_counts_agree_with_the_analysis_of_the_text_and_json_reports()
    {
        var profile = SampleProfiles.Service();
        await using var report = await ReportPage.OpenAsync(chromium.Require(), profile);
        var analysis = Report.ProfileAnalysis.Analyze(profile);
        var expected = analysis.Functions.Where(f => f.Total > 0)
            .ToDictionary(f => f.Method.DisplayName + (f.Method.Module.Length == 0 ? "" : " " + f.Method.Module), f => (f.Self, f.Total));

        var rows = report.Page.Locator("#functions-box table.functions tbody tr");
        var count = await rows.CountAsync();
        Assert.True(count > 10, $"{count} rows");
        for (var i = 0; i < count; i++)
        {
            var cells = await rows.Nth(i).Locator("td").AllInnerTextsAsync();
            // #, Self, Self %, Total, Total %, Function (its name, then its module)
            Assert.True(expected.TryGetValue(cells[5], out var counts), $"the page lists '{cells[5]}', which the analysis does not");
            Assert.Equal(counts.Self.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), cells[1]);
            Assert.Equal(counts.Total.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), cells[3]);
        }
        Assert.Empty(report.Problems);
    }

    [SkippableFact]
    public async Task Clicking_a_flame_graph_frame_zooms_into_it()
    {
        await using var report = await ReportPage.OpenAsync(chromium.Require(), SampleProfiles.Demo());
        var canvas = report.Page.Locator("#flame-canvas");
        var path = report.Page.Locator("#flame-path button");
        await Expect(path).ToHaveTextAsync(["all threads"]);

        // Rows are 18 px high; the root is the bottom row, the threads (busiest first, at the left) just above it.
        var height = (await canvas.BoundingBoxAsync())!.Height;
        await canvas.ClickAsync(new() { Position = new() { X = 20, Y = height - 18 - 9 } });
        await Expect(path).ToHaveTextAsync(["all threads", "Main (tid 1001)"]);

        await report.Page.Keyboard.PressAsync("Escape");
        await Expect(path).ToHaveTextAsync(["all threads"]);

        // Upside down (icicle): the root on top, the threads in the second row.
        await report.Page.CheckAsync("#flame-icicle");
        await canvas.ClickAsync(new() { Position = new() { X = 20, Y = 18 + 9 } });
        await Expect(path).ToHaveTextAsync(["all threads", "Main (tid 1001)"]);
        Assert.Empty(report.Problems);
    }

    [SkippableFact]
    public async Task Threads_doing_the_same_job_are_one_tower_until_split()
    {
        // Six workers named alike and two unnamed ones: a tower each was a row of near-identical towers.
        await using var report = await ReportPage.OpenAsync(chromium.Require(), SampleProfiles.Service());
        var rows = report.Page.Locator("#tree-box .row");
        await Expect(rows.Filter(new() { HasText = ".NET ThreadPool Worker (6 threads)" })).ToHaveCountAsync(1);
        await Expect(rows.Filter(new() { HasText = ".NET ThreadPool Worker (tid" })).ToHaveCountAsync(0);
        var status = await report.TextAsync("#view-status");

        await report.Page.CheckAsync("#flame-split");
        await Expect(rows.Filter(new() { HasText = ".NET ThreadPool Worker (tid" })).ToHaveCountAsync(6);
        await Expect(rows.Filter(new() { HasText = "(6 threads)" })).ToHaveCountAsync(0);
        Assert.Equal(status, await report.TextAsync("#view-status")); // the same samples, only grouped otherwise
        Assert.Empty(report.Problems);
    }

    [SkippableFact]
    public async Task Searching_highlights_matches_and_sums_their_share()
    {
        await using var report = await ReportPage.OpenAsync(chromium.Require(), SampleProfiles.Demo());

        // Parser.Parse is on 40 of the 100 samples; its recursive calls lie inside and are not counted twice.
        await report.Page.FillAsync("#flame-search", "parser.parse");
        await Expect(report.Page.Locator("#flame-match")).ToHaveTextAsync("matching frames: 40.0% of the view");

        await report.Page.FillAsync("#tree-search", "Sort");
        await Expect(report.Page.Locator("#tree-match")).ToHaveTextAsync("1 matching node");
        await Expect(report.Page.Locator("#tree-box .row.match")).ToContainTextAsync("System.Collections.Generic.List`1.Sort");
        Assert.Empty(report.Problems);
    }

    [SkippableFact]
    public async Task Functions_sort_filter_and_show_callers_and_callees()
    {
        await using var report = await ReportPage.OpenAsync(chromium.Require(), SampleProfiles.Demo());
        var firstName = report.Page.Locator("#functions-box tbody tr").First.Locator("td.name");
        await Expect(firstName).ToContainTextAsync("Parser.Parse");

        await report.Page.Locator("#functions-box th", new() { HasText = "Total" }).First.ClickAsync();
        await Expect(firstName).ToContainTextAsync("Server.Run"); // 60 samples, like Program.Main, and 5 of its own

        await report.Page.FillAsync("#functions-filter", "handle");
        await Expect(report.Page.Locator("#functions-box tbody tr")).ToHaveCountAsync(1);
        await report.Page.Locator("#functions-box tbody tr").First.ClickAsync();

        var butterfly = report.Page.Locator("#butterfly");
        await Expect(butterfly).ToBeVisibleAsync();
        await Expect(butterfly.Locator(".side").Nth(0).Locator("td.name")).ToHaveTextAsync(["Server.Run DemoApp.dll"]);
        await Expect(butterfly.Locator(".side").Nth(1).Locator("td.name")).ToHaveTextAsync(
            ["Parser.Parse DemoApp.dll", "System.Collections.Generic.List`1.Sort System.Private.CoreLib.dll"]);
        // Where in Handle: line 10 (40 samples, through Parse) before line 12 (15, through Sort).
        await Expect(butterfly.Locator(".lines td.name")).ToHaveTextAsync(["Program.cs:10", "Program.cs:12"]);
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
        await Expect(report.Page.Locator("#view-status")).ToContainTextAsync("Showing 100 samples from 3 threads");

        await report.Page.Locator("tr", new() { HasText = "Main (tid 1001)" }).Locator("input.thread-pick").UncheckAsync();
        await Expect(report.Page.Locator("#view-status")).ToContainTextAsync("Showing 40 samples from 2 threads");
        Assert.Equal(0, await report.Page.Locator("#functions-box td.name", new() { HasText = "Parser.Parse" }).CountAsync());

        await report.Page.ClickAsync("#threads-all");
        await report.Page.CheckAsync("input[name=states][value=cpu]");
        await Expect(report.Page.Locator("#view-status")).ToContainTextAsync("Showing 55 samples from 1 thread");

        await report.Page.CheckAsync("input[name=weight][value=cpu]");
        // Main's 535 ms, and the 1 ms Thread 9 used between snapshots while blocked at them ("[ran between samples]": on a CPU).
        await Expect(report.Page.Locator("#view-status")).ToContainTextAsync("536.0 ms of CPU time from 2 threads");

        await report.Page.CheckAsync("input[name=states][value=all]");
        await report.Page.CheckAsync("input[name=weight][value=samples]");
        await report.Page.CheckAsync("#idle");
        await Expect(report.Page.Locator("#view-status")).ToContainTextAsync("Showing 108 samples from 4 threads");
        Assert.Empty(report.Problems);
    }

    [SkippableFact]
    public async Task Unticking_a_layer_leaves_it_out_of_every_view_and_timelines_colour_by_layer()
    {
        await using var report = await ReportPage.OpenAsync(chromium.Require(), SampleProfiles.Demo());
        var appRow = report.Page.Locator("table.layers tr", new() { HasText = "your code" });
        await Expect(appRow.Locator("td[data-layer-samples]")).ToHaveTextAsync("60");
        await Expect(appRow.Locator("td[data-layer-pct]")).ToHaveTextAsync("60.0%");
        Assert.True(await report.Page.Locator("#functions-box td.name", new() { HasText = "Parser.Parse" }).CountAsync() > 0);

        await appRow.Locator("input.layer-pick").UncheckAsync();
        await Expect(report.Page.Locator("#view-status")).ToContainTextAsync("Showing 40 samples");
        Assert.Equal(0, await report.Page.Locator("#functions-box td.name", new() { HasText = "Parser.Parse" }).CountAsync());
        Assert.Equal(0, await report.Page.Locator("#tree-box .row", new() { HasText = "Parser.Parse" }).CountAsync());
        // The other layers' shares are of what is shown now; the unticked one keeps its count but no share.
        await Expect(report.Page.Locator("table.layers tr", new() { HasText = "locks and waits" }).Locator("td[data-layer-pct]")).ToHaveTextAsync("25.0%");
        await Expect(appRow.Locator("td[data-layer-pct]")).ToHaveTextAsync("\u2013");

        await report.Page.CheckAsync("input[name=colour][value=layer]");
        await report.Page.ClickAsync("#layers-all");
        await Expect(report.Page.Locator("#view-status")).ToContainTextAsync("Showing 100 samples");
        var segments = report.Page.Locator("tr", new() { HasText = "Main (tid 1001)" }).Locator("td.layer-bar span");
        Assert.True(await segments.CountAsync() > 0, "the Main thread has no layer bar");
        await Expect(segments.First).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("^[a-z-]+: [0-9,]+ samples"));
        Assert.Empty(report.Problems);
    }

    [SkippableFact]
    public async Task Dragging_across_a_timeline_limits_every_view_to_that_time()
    {
        await using var report = await ReportPage.OpenAsync(chromium.Require(), SampleProfiles.Demo());
        var strip = report.Page.Locator("tr", new() { HasText = "Main (tid 1001)" }).Locator("canvas.timeline");
        var box = (await strip.BoundingBoxAsync())!;

        // The demo's 60 snapshots are 10 ms apart: the first half of the capture holds snapshots 1-30.
        await report.Page.Mouse.MoveAsync(box.X + 0.5f, box.Y + box.Height / 2);
        await report.Page.Mouse.DownAsync();
        await report.Page.Mouse.MoveAsync(box.X + box.Width * 0.5f, box.Y + box.Height / 2, new() { Steps = 5 });
        await report.Page.Mouse.UpAsync();

        await Expect(report.Page.Locator("#range-group")).ToBeVisibleAsync();
        await Expect(report.Page.Locator("#view-status")).ToContainTextAsync("Showing 70 samples from 3 threads");
        await report.Page.ClickAsync("#range-clear");
        await Expect(report.Page.Locator("#view-status")).ToContainTextAsync("Showing 100 samples from 3 threads");
        await Expect(report.Page.Locator("#range-group")).ToBeHiddenAsync();
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
