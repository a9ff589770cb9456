using System.Text.Json;
using Snapper.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// <c>snapper dump --async</c> on the example web service under load on its /quote endpoint, whose handler awaits an
/// HttpClient call to a slow upstream (20 ms): the requests waiting on it are on no thread, and the heap walk must find
/// them grouped as HttpClient calls, with the handler in their chain between HttpClient's methods and Kestrel's.
/// </summary>
public sealed class AsyncShopTests(ShopServiceFixture shop, ITestOutputHelper output) : IClassFixture<ShopServiceFixture>
{
    [Fact]
    public async Task Requests_awaiting_the_upstream_call_are_listed_with_the_handler_in_their_chain()
    {
        SnapperCli.Result result;
        int ok, failed;
        await using (var load = new HttpLoad(shop.BaseAddress, ["quote"], perPath: 6))
        {
            // Answers flowing, not just workers started: the first requests of a fresh service wait for the JIT.
            for (var waited = 0; load.Ok < 50 && waited < 30_000; waited += 100) await Task.Delay(100);
            // A dump is one moment: up to five, until one finds a request waiting on the upstream call. The load comes from
            // this process, which shares 2 vCPUs with the service and each starting Snapper: some dumps found every
            // connection idle between two requests (none in flight), while wrk's load was found in the first.
            var dumps = 0;
            do result = SnapperCli.Run("dump", "--pid", shop.Target.Pid.ToString(), "--async", "--format", "json");
            while (++dumps < 5 && result.ExitCode == 0 && !result.Stdout.Contains("Shop.ShopEndpoints.QuoteAsync", StringComparison.Ordinal));
            output.WriteLine($"{dumps} dumps");
            ok = load.Ok;
            failed = load.Failed;
        }
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(shop.Target.AnyThreadStopped(), "the service was left stopped");
        Assert.True(ok > 10 && failed == 0, $"load: {ok} answered, {failed} failed");

        using var dump = JsonDocument.Parse(result.Stdout);
        var pending = dump.RootElement.GetProperty("async");
        output.WriteLine($"held {dump.RootElement.GetProperty("pauseMs").GetDouble()} ms; walk {pending.GetProperty("walkMs").GetDouble()} ms " +
            $"over {pending.GetProperty("objectsWalked").GetInt64()} objects, {pending.GetProperty("heapBytes").GetInt64()} bytes; " +
            string.Join(", ", pending.GetProperty("groups").EnumerateArray().Select(g => $"{g.GetProperty("awaits").GetString()} {g.GetProperty("chains").GetInt32()}")));
        Assert.True(pending.GetProperty("complete").GetBoolean(), "the walk ran past its default budget");
        var http = Assert.Single(pending.GetProperty("groups").EnumerateArray(), g => g.GetProperty("kind").GetString() == "http-client");
        var quotes = http.GetProperty("distinct").EnumerateArray()
            .Select(c => (Count: c.GetProperty("count").GetInt32(), Methods: c.GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("method").GetString()!).ToList()))
            .Where(c => c.Methods.Contains("Shop.ShopEndpoints.QuoteAsync"))
            .ToList();
        Assert.True(quotes.Sum(c => c.Count) >= 1, http.ToString());
        foreach (var (_, methods) in quotes)
        {
            // Innermost first: HttpClient's own method, then the handler, then the server that called it.
            var handler = methods.IndexOf("Shop.ShopEndpoints.QuoteAsync");
            Assert.True(methods.FindIndex(m => m.StartsWith("System.Net.Http.HttpClient.", StringComparison.Ordinal)) is var client && client >= 0 && client < handler, string.Join("\n", methods));
            Assert.True(methods.FindIndex(m => m.Contains("HttpProtocol.ProcessRequests", StringComparison.Ordinal)) > handler, string.Join("\n", methods));
        }
    }
}
