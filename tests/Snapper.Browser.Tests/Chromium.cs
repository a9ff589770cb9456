using Microsoft.Playwright;

namespace Snapper.Browser.Tests;

/// <summary>
/// Debian's Chromium (/usr/bin/chromium) driven by Playwright, started once for all browser tests. Never a downloaded
/// browser. Without Chromium the tests are skipped with the reason, except under CI=true, where that is a failure.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    IPlaywright? _playwright;
    public IBrowser? Browser { get; private set; }

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath)) return;
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Root in CI needs --no-sandbox; the rest keep Chromium off a network that is closed anyway.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic"],
        });
    }

    /// <summary>The browser, or a skip (a failure under CI) saying what is missing.</summary>
    public IBrowser Require()
    {
        if (Browser is { } browser) return browser;
        var reason = $"{ExecutablePath} is missing: install Debian's chromium package (apt-get install chromium)";
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(reason);
        Skip.If(true, reason);
        throw new InvalidOperationException("unreachable");
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ChromiumCollection : ICollectionFixture<Chromium>
{
    public const string Name = "chromium";
}
