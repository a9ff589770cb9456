using Microsoft.Playwright;
using Snapper.Report;
using Snapper.Store;

namespace Snapper.Browser.Tests;

/// <summary>
/// A report written to a file and opened from disk, as a user would, with every console error, page error, dialog
/// and network request recorded: the report must produce none of them.
/// </summary>
sealed class ReportPage : IAsyncDisposable
{
    readonly string _directory;
    public IPage Page { get; }
    public List<string> Problems { get; } = new();

    ReportPage(string directory, IPage page)
    {
        _directory = directory;
        Page = page;
    }

    public static async Task<ReportPage> OpenAsync(IBrowser browser, Profile profile, ReportOptions? options = null)
    {
        var directory = Directory.CreateTempSubdirectory("snapper-browser-").FullName;
        var path = Path.Combine(directory, "report.html");
        using (var file = new StreamWriter(path))
            HtmlReportWriter.Write(profile, file, options);
        return await OpenFileAsync(browser, directory, path);
    }

    /// <summary>Opens a report file; <paramref name="directory"/> is deleted with the page.</summary>
    public static async Task<ReportPage> OpenFileAsync(IBrowser browser, string directory, string path)
    {
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        var report = new ReportPage(directory, page);
        page.Console += (_, message) => { if (message.Type is "error" or "warning") report.Problems.Add($"console {message.Type}: {message.Text}"); };
        page.PageError += (_, error) => report.Problems.Add($"page error: {error}");
        page.Dialog += async (_, dialog) => { report.Problems.Add($"dialog: {dialog.Message}"); await dialog.DismissAsync(); };
        page.Request += (_, request) => { if (!request.Url.StartsWith("file:", StringComparison.Ordinal)) report.Problems.Add($"request: {request.Url}"); };
        await page.GotoAsync(new Uri(path).AbsoluteUri);
        await page.WaitForSelectorAsync("html[data-ready]");
        return report;
    }

    public Task<string> TextAsync(string selector) => Page.Locator(selector).First.InnerTextAsync();

    public async ValueTask DisposeAsync()
    {
        await Page.CloseAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
