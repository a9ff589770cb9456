// The HTML report's benchmark: a store of 1,000,000 samples over 20 threads with 20,000 distinct stacks; how long
// `snapper report` takes to write the page, how big the page is, how soon it is usable in headless Chromium, and
// how fast zooming and searching respond. Prints a markdown table (docs/benchmarks.md, "Report benchmark").
//   dotnet run -c Release --project tests/Snapper.ReportBenchmark [-- --samples 1000000 --threads 20 --stacks 20000 --keep DIR]
// --keep leaves the store and the report in DIR, to look at.
//   dotnet run -c Release --project tests/Snapper.ReportBenchmark -- --history
// measures the history goals instead: store growth per sample, report --since over 100 sessions, prune of 1 GB.
using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;
using Snapper.ReportBenchmark;
using Snapper.Store;

int Arg(string name, int fallback) =>
    args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
if (args.Contains("--history"))
{
    var historyDir = Directory.CreateTempSubdirectory("snapper-history-bench-").FullName;
    try
    {
        HistoryBenchmark.Run(historyDir, Path.Combine(AppContext.BaseDirectory, "snapper.dll"));
    }
    finally
    {
        Directory.Delete(historyDir, recursive: true);
    }
    return 0;
}
var samples = Arg("--samples", 1_000_000);
var threads = Arg("--threads", 20);
var stacks = Arg("--stacks", 20_000);

var keep = args.SkipWhile(a => a != "--keep").Skip(1).FirstOrDefault();
var dir = keep is null ? Directory.CreateTempSubdirectory("snapper-report-bench-").FullName : Directory.CreateDirectory(keep).FullName;
try
{
    var dbPath = Path.Combine(dir, "large.db");
    File.Delete(dbPath);
    var html = Path.Combine(dir, "report.html");
    var clock = Stopwatch.StartNew();
    using (var db = SnapperDatabase.Open(dbPath))
        LargeStore.Write(db, samples, threads, stacks);
    Console.Error.WriteLine($"store written in {clock.Elapsed.TotalSeconds:0.0} s");

    // As a user runs it: the snapper command, from process start to exit.
    var snapper = Path.Combine(AppContext.BaseDirectory, "snapper.dll");
    var runs = Enumerable.Range(0, 3).Select(_ => TimeReport(snapper, dbPath, html)).ToList();
    var size = new FileInfo(html).Length;

    using var playwright = await Playwright.CreateAsync();
    await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    var loads = new List<double>();
    var zooms = new List<double>();
    var searches = new List<double>();
    for (var round = 0; round < 3; round++)
    {
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        await page.GotoAsync(new Uri(html).AbsoluteUri);
        await page.WaitForSelectorAsync("html[data-ready]", new() { Timeout = 60_000 });
        loads.Add(double.Parse((await page.GetAttributeAsync("html", "data-ready"))!, CultureInfo.InvariantCulture));
        // Zoom: a click on the canvas until the next frame is drawn. Search: typing until the highlight is drawn.
        zooms.Add(await page.EvaluateAsync<double>("""
            () => new Promise(done => {
              const canvas = document.getElementById('flame-canvas'), box = canvas.getBoundingClientRect();
              const t0 = performance.now();
              canvas.dispatchEvent(new MouseEvent('click', { clientX: box.left + 30, clientY: box.bottom - 27, bubbles: true }));
              requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
            })
            """));
        searches.Add(await page.EvaluateAsync<double>("""
            () => new Promise(done => {
              const input = document.getElementById('flame-search');
              const t0 = performance.now();
              input.value = 'Method17';
              input.dispatchEvent(new Event('input', { bubbles: true }));
              requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
            })
            """));
        await page.CloseAsync();
    }

    static string Ms(double ms) => ms.ToString(ms < 100 ? "0.0" : "0", CultureInfo.InvariantCulture) + " ms";
    Console.WriteLine($"Report of {samples:N0} samples, {threads} threads, {stacks:N0} distinct stacks (median of 3):");
    Console.WriteLine();
    Console.WriteLine("| measure | result | goal |");
    Console.WriteLine("|---|---:|---:|");
    Console.WriteLine($"| `snapper report` writes the HTML | {runs.Order().ElementAt(1).TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s | ≤ 3 s |");
    Console.WriteLine($"| file size | {(size / 1e6).ToString("0.0", CultureInfo.InvariantCulture)} MB | ≤ 8 MB |");
    Console.WriteLine($"| page usable in headless Chromium | {Ms(loads.Order().ElementAt(1))} | ≤ 2 s |");
    Console.WriteLine($"| flame graph zoom | {Ms(zooms.Order().ElementAt(1))} | ≤ 100 ms |");
    Console.WriteLine($"| flame graph search | {Ms(searches.Order().ElementAt(1))} | ≤ 100 ms |");
    return 0;
}
finally
{
    if (keep is null) Directory.Delete(dir, recursive: true);
}

static TimeSpan TimeReport(string snapper, string db, string html)
{
    var info = new ProcessStartInfo("dotnet", [snapper, "report", "--db", db, "-o", html]) { RedirectStandardOutput = true, RedirectStandardError = true };
    var clock = Stopwatch.StartNew();
    using var process = Process.Start(info)!;
    var stderr = process.StandardError.ReadToEndAsync();
    process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0) throw new InvalidOperationException($"snapper report failed: {stderr.Result}");
    return clock.Elapsed;
}
