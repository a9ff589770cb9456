using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Snapper.Sampling.Linux;

namespace Snapper.Benchmark;

/// <summary>
/// examples/ShopService on a free port, and wrk driving it: 2 threads, 16 connections, a fixed mix of its endpoints
/// (<see cref="Mix"/>). The load the web and budget benchmarks share. Needs wrk (apt-get install wrk).
/// </summary>
sealed partial class ShopUnderLoad : IDisposable
{
    /// <summary>Endpoints in the order each wrk connection requests them, over and over: every layer of the service.</summary>
    public static readonly string[] Mix = ["/orders/search", "/catalog", "/recommend", "/prices", "/report", "/recommend", "/inventory", "/catalog"];

    readonly DetachedProcess _service;
    readonly string _wrk, _script;

    public int Pid => _service.Pid;
    public string Url { get; }

    ShopUnderLoad(DetachedProcess service, string url, string wrk, string script)
    {
        (_service, Url, _wrk, _script) = (service, url, wrk, script);
    }

    /// <param name="dir">Where the wrk script is written.</param>
    public static ShopUnderLoad Start(string dir)
    {
        var wrk = Tool("wrk", "apt-get install wrk");
        var script = Path.Combine(dir, "mix.lua");
        File.WriteAllText(script, "local paths = {" + string.Join(", ", Mix.Select(p => $"\"{p}\"")) + "}\n" +
            "local i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n");
        var url = $"http://127.0.0.1:{FreePort()}";
        var service = DetachedProcess.Start(Snapper.Cli.DotnetHost.Path, [Path.Combine(AppContext.BaseDirectory, "ShopService.dll"), "--urls", url]);
        var ready = service.Output.ReadLine();
        if (ready?.StartsWith("READY", StringComparison.Ordinal) != true)
        {
            service.Dispose();
            throw new InvalidOperationException($"ShopService did not start: {ready}");
        }
        Console.Error.WriteLine($"# ShopService: pid {service.Pid}, {url}, mix {string.Join(' ', Mix)}");
        return new ShopUnderLoad(service, url, wrk, script);
    }

    /// <summary>requests/s and latency percentiles of one wrk run.</summary>
    public readonly record struct LoadResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Errors);

    /// <summary>Runs wrk for <paramref name="window"/> (whole seconds) and returns what it measured.</summary>
    public LoadResult Load(TimeSpan window)
    {
        var info = new ProcessStartInfo(_wrk, ["-t2", "-c16", $"-d{(int)window.TotalSeconds}s", "--latency", "-s", _script, Url])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start wrk");
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var rps = RequestsPerSecond().Match(text);
        if (!rps.Success) throw new InvalidOperationException($"wrk printed no rate: {text}{process.StandardError.ReadToEnd()}");
        var errors = NotOk().Match(text);
        return new LoadResult(double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture), Latency(text, "50%"), Latency(text, "99%"),
            errors.Success ? long.Parse(errors.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
    }

    public void Dispose() => _service.Dispose();

    /// <summary>A percentile line of wrk's latency distribution ("99%   12.34ms"), in ms.</summary>
    static double Latency(string text, string percentile)
    {
        var m = Regex.Match(text, $@"^\s*{Regex.Escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!m.Success) return double.NaN;
        var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    /// <summary>A tool on PATH or among the global .NET tools; a one-line error naming how to install it otherwise.</summary>
    public static string Tool(string name, string install)
    {
        var home = Environment.GetEnvironmentVariable("HOME") ?? "/root";
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append(Path.Combine(home, ".dotnet", "tools")))
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        throw new InvalidOperationException($"the web benchmarks need {name}: {install}");
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NotOk();
}
