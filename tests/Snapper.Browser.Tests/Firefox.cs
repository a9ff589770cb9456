using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Snapper.Browser.Tests;

/// <summary>
/// Debian's Firefox ESR (/usr/bin/firefox-esr), headless, driven over WebDriver BiDi, the W3C protocol stock Firefox
/// speaks (Playwright needs a patched Firefox, which is a download). Just enough of the protocol to open a page,
/// evaluate script in it and collect what it logged. Missing Firefox: skipped with the reason, a failure under CI=true.
/// </summary>
public sealed partial class Firefox : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/firefox-esr";

    Process? _process;
    ClientWebSocket? _socket;
    string? _profile;
    int _nextId;
    public string? Context { get; private set; }

    /// <summary>Console and JavaScript errors the page logged.</summary>
    public List<string> Errors { get; } = new();

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath)) return;
        _profile = Directory.CreateTempSubdirectory("snapper-firefox-").FullName;
        // No network at all: updates, telemetry and remote settings would only fail on a closed network.
        File.WriteAllText(Path.Combine(_profile, "user.js"), """
            user_pref("network.proxy.type", 1);
            user_pref("network.proxy.http", "127.0.0.1");
            user_pref("network.proxy.http_port", 9);
            user_pref("network.proxy.ssl", "127.0.0.1");
            user_pref("network.proxy.ssl_port", 9);
            user_pref("app.update.enabled", false);
            user_pref("datareporting.policy.dataSubmissionEnabled", false);
            """);
        _process = Process.Start(new ProcessStartInfo(ExecutablePath, ["--headless", "--no-remote", "--profile", _profile, "--remote-debugging-port", "0"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment = { ["HOME"] = _profile, ["MOZ_CRASHREPORTER_DISABLE"] = "1" },
        })!;
        _ = _process.StandardOutput.ReadToEndAsync();
        string? url = null;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (url is null && DateTime.UtcNow < deadline && await _process.StandardError.ReadLineAsync() is { } line)
            if (Listening().Match(line) is { Success: true } match) url = match.Groups[1].Value;
        if (url is null) throw new InvalidOperationException("Firefox did not open its WebDriver BiDi port");
        _ = _process.StandardError.ReadToEndAsync();
        _socket = new ClientWebSocket();
        await _socket.ConnectAsync(new Uri(url.TrimEnd('/') + "/session"), CancellationToken.None);
        await SendAsync("session.new", new JsonObject { ["capabilities"] = new JsonObject() });
        await SendAsync("session.subscribe", new JsonObject { ["events"] = new JsonArray("log.entryAdded") });
        var tree = await SendAsync("browsingContext.getTree", new JsonObject());
        Context = tree["contexts"]![0]!["context"]!.GetValue<string>();
    }

    /// <summary>Skips (fails under CI) when Firefox is not installed.</summary>
    public void Require()
    {
        if (_socket is not null) return;
        var reason = $"{ExecutablePath} is missing: install Debian's firefox-esr package";
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(reason);
        Skip.If(true, reason);
    }

    public Task NavigateAsync(string url) =>
        SendAsync("browsingContext.navigate", new JsonObject { ["context"] = Context, ["url"] = url, ["wait"] = "complete" });

    /// <summary>Evaluates an expression in the page (promises awaited) and returns its value as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("script.evaluate", new JsonObject
        {
            ["expression"] = expression,
            ["target"] = new JsonObject { ["context"] = Context },
            ["awaitPromise"] = true,
        });
        if (result["type"]?.GetValue<string>() == "exception")
            throw new InvalidOperationException($"script failed: {result["exceptionDetails"]?["text"]}");
        return result["result"]?["value"];
    }

    async Task<JsonNode> SendAsync(string method, JsonObject parameters)
    {
        var id = ++_nextId;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
        await _socket!.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var reply = await ReceiveAsync(timeout.Token);
            if (reply["method"]?.GetValue<string>() == "log.entryAdded")
            {
                var entry = reply["params"]!;
                if (entry["level"]?.GetValue<string>() == "error") Errors.Add($"{entry["type"]}: {entry["text"]}");
                continue;
            }
            if (reply["id"]?.GetValue<int>() != id) continue;
            if (reply["type"]?.GetValue<string>() == "error")
                throw new InvalidOperationException($"{method}: {reply["error"]} {reply["message"]}");
            return reply["result"]!;
        }
    }

    async Task<JsonNode> ReceiveAsync(CancellationToken cancel)
    {
        var buffer = new byte[64 * 1024];
        using var text = new MemoryStream();
        WebSocketReceiveResult received;
        do
        {
            received = await _socket!.ReceiveAsync(buffer, cancel);
            text.Write(buffer, 0, received.Count);
        } while (!received.EndOfMessage);
        return JsonNode.Parse(text.ToArray())!;
    }

    public async Task DisposeAsync()
    {
        if (_socket is { State: WebSocketState.Open })
        {
            try
            {
                await SendAsync("browser.close", new JsonObject());
            }
            catch (Exception e) when (e is InvalidOperationException or WebSocketException or JsonException)
            {
                // Already going away: killed below anyway.
            }
        }
        _socket?.Dispose();
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        if (_profile is not null) Directory.Delete(_profile, recursive: true);
    }

    [GeneratedRegex(@"WebDriver BiDi listening on (ws://\S+)")]
    private static partial Regex Listening();
}

[CollectionDefinition(Name)]
public sealed class FirefoxCollection : ICollectionFixture<Firefox>
{
    public const string Name = "firefox";
}
