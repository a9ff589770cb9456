using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Snapper.Store;
using Snapper.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapper.Tests.RealProcess;

/// <summary>The example web service (examples/ShopService), started once for the class and always killed at the end.</summary>
public sealed class ShopServiceFixture : IDisposable
{
    public ShopServiceFixture()
    {
        var port = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        Target = RunningTarget.Start(Path.Combine(AppContext.BaseDirectory, "ShopService.dll"), ["--urls", $"http://127.0.0.1:{port}"]);
    }

    public RunningTarget Target { get; }
    public Uri BaseAddress { get; }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => Target.Dispose();
}

/// <summary>
/// Layers and focus on a real ASP.NET Core service under real HTTP load on loopback: each endpoint's request samples
/// land in the layer it was built to stress, and --focus keeps one endpoint's samples and nothing else.
/// </summary>
public sealed class WebLayersTests(ShopServiceFixture shop, ITestOutputHelper output) : IClassFixture<ShopServiceFixture>
{
    /// <summary>
    /// Runs a capture. A freshly started ASP.NET Core service, JIT-compiling dynamic methods and IL stubs, once made
    /// Snapper die of SIGSEGV inside the DAC (exit 139, about one capture in twenty; see ILOffsets): a crash fails
    /// the test, after checking the service survived it, running and not left stopped.
    /// </summary>
    SnapperCli.Result Capture(params string[] args)
    {
        var result = SnapperCli.Run(args);
        if (result.ExitCode == 139)
        {
            Assert.False(shop.Target.Process.HasExited, "the service died with Snapper");
            Assert.False(shop.Target.AnyThreadStopped(), "Snapper's crash left the service stopped");
            Assert.Fail($"snapper crashed (exit 139, SIGSEGV) capturing the service: {result}");
        }
        return result;
    }

    /// <summary>Each endpoint, the method its requests run in (what --focus looks for), and the layer it stresses.</summary>
    public static TheoryData<string, string, string> Endpoints => new()
    {
        { "orders/search", "ShopEndpoints.SearchOrders", "sql" },
        { "catalog", "ShopEndpoints.SerializeCatalog", "serialization" },
        { "report", "Views_Shop_Report", "views" },
        { "inventory", "ShopEndpoints.ReserveStock", "locks" },
        { "prices", "ShopEndpoints.FetchPrices", "http-client" },
        { "recommend", "ShopEndpoints.Recommend", "app" },
    };

    static readonly string[] EndpointMethods = ["ShopEndpoints.SearchOrders", "ShopEndpoints.SerializeCatalog", "Views_Shop_Report",
        "ShopEndpoints.ReserveStock", "ShopEndpoints.FetchPrices", "ShopEndpoints.Recommend"];

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Each_endpoint_spends_at_least_80_percent_of_its_request_samples_in_its_layer(string path, string method, string layer)
    {
        using var dir = new TempDirectory();
        var db = dir.File("web.db");
        SnapperCli.Result capture;
        int ok, failed;
        await using (var load = new HttpLoad(shop.BaseAddress, [path]))
        {
            await Task.Delay(1000); // let the workers get going (and the JIT settle) before sampling
            capture = Capture("sample", "--pid", shop.Target.Pid.ToString(), "--duration", "4s", "--focus", method,
                "--db", db, "--no-report", "--quiet");
            ok = load.Ok;
            failed = load.Failed;
        }
        Assert.True(capture.ExitCode == 0, capture.ToString());
        Assert.True(ok > 10 && failed == 0, $"load: {ok} answered, {failed} failed");
        Assert.False(shop.Target.AnyThreadStopped(), "the service was left stopped");

        var report = SnapperCli.Run("report", "--db", db, "--format", "json");
        Assert.True(report.ExitCode == 0, report.ToString());
        using var json = JsonDocument.Parse(report.Stdout);
        var focus = json.RootElement.GetProperty("session").GetProperty("focus");
        var kept = focus.GetProperty("kept").GetInt64();
        Assert.True(kept >= 20, $"only {kept} of {focus.GetProperty("seen").GetInt64()} samples were in {method}");
        var layers = json.RootElement.GetProperty("layers").GetProperty("overall").EnumerateArray()
            .ToDictionary(l => l.GetProperty("layer").GetString()!, l => l.GetProperty("percent").GetDouble());
        var share = layers.GetValueOrDefault(layer);
        output.WriteLine($"{path}: kept {kept} of {focus.GetProperty("seen").GetInt64()} samples; " +
            string.Join(", ", layers.Select(l => $"{l.Key} {l.Value:0.0}%")) + $"; load {ok} requests");
        Assert.True(share >= 80, $"{path}: {share:0.0}% in {layer}; breakdown: {string.Join(", ", layers.Select(l => $"{l.Key} {l.Value:0.0}%"))}");
    }

    /// <summary>
    /// The inventory endpoint's lock (a Monitor held 2 ms per request while the others queue) under load: its waiters
    /// are stored with the lock, and the holders they name are other request threads, mostly inside that very lock (the
    /// holder is read a moment after the waiters' stops: one that let go meanwhile can show as the next, or as none).
    /// </summary>
    [Fact]
    public async Task The_inventory_locks_waiters_name_the_request_thread_that_holds_it()
    {
        using var dir = new TempDirectory();
        var db = dir.File("locks.db");
        SnapperCli.Result capture;
        await using (var load = new HttpLoad(shop.BaseAddress, ["inventory"], perPath: 6))
        {
            await Task.Delay(1000);
            var info = SnapperCli.StartInfo("sample", "--pid", shop.Target.Pid.ToString(), "--duration", "4s", "--db", db, "--no-report", "--quiet");
            capture = SnapperCli.Run(info);
        }
        Assert.True(capture.ExitCode == 0, capture.ToString());
        Assert.False(shop.Target.AnyThreadStopped(), "the service was left stopped");

        var profile = ProfileQueries.LoadLatest(db);
        var samples = profile.Samples.Where(s => s.Wall > 0).ToDictionary(s => (s.Sequence, s.ThreadId));
        bool InReserve(int sequence, int thread) => samples.TryGetValue((sequence, thread), out var sample)
            && profile.FramesOf(sample.StackId).Any(f => profile.Frames[f].DisplayName.EndsWith("Inventory.Reserve", StringComparison.Ordinal));
        // The inventory's lock: the Monitor on a System.Object whose waiters are inside Inventory.Reserve.
        var waits = profile.Locks.Where(l => l.Kind == LockKind.Monitor && l.TypeName == "System.Object")
            .Select(l => profile.LockWaits.Where(w => w.LockId == l.Id && InReserve(w.Sequence, w.ThreadId)).ToList())
            .OrderByDescending(w => w.Count).FirstOrDefault() ?? [];
        Assert.True(waits.Count >= 10, $"{waits.Count} waits on the inventory lock were stored; locks: " +
            string.Join(", ", profile.Locks.Select(l => $"{l.Kind} {l.TypeName}")));
        var named = waits.Where(w => w.OwnerThreadId is not null).ToList();
        output.WriteLine($"{waits.Count} waits on the inventory lock, {named.Count} named a holder");
        Assert.True(named.Count * 5 >= waits.Count, $"only {named.Count} of {waits.Count} waits named a holder");
        Assert.All(named, w => Assert.NotEqual(w.ThreadId, w.OwnerThreadId));
        var holdersInside = named.Count(w => InReserve(w.Sequence, w.OwnerThreadId!.Value));
        Assert.True(holdersInside * 10 >= named.Count * 7, $"{holdersInside} of {named.Count} holders named were inside Inventory.Reserve");
    }

    [Fact]
    public async Task Focus_on_one_endpoint_under_mixed_load_keeps_only_its_samples_and_stops_at_the_count()
    {
        using var dir = new TempDirectory();
        var db = dir.File("focus.db");
        SnapperCli.Result capture;
        await using (var load = new HttpLoad(shop.BaseAddress, Endpoints.Select(e => (string)e[0]).ToList(), perPath: 1))
        {
            await Task.Delay(1000);
            capture = Capture("sample", "--pid", shop.Target.Pid.ToString(), "--focus", "ShopEndpoints\\.SearchOrders",
                "--focus-count", "30", "--duration", "60s", "--db", db, "--no-report");
        }
        Assert.True(capture.ExitCode == 0, capture.ToString());
        Assert.Contains("focus /ShopEndpoints\\.SearchOrders/ kept 30 of", capture.Stdout);

        var profile = ProfileQueries.LoadLatest(db);
        Assert.Equal(SessionEndReason.FocusCountReached, profile.Session.EndReason);
        var focus = Assert.IsType<FocusCounts>(profile.Session.Focus);
        Assert.Equal(30, focus.Kept);
        Assert.True(focus.Seen > focus.Kept, $"seen {focus.Seen}");
        var seen = profile.Samples.Where(s => s.Wall == 1).ToList(); // not the CPU-only samples of BetweenSamples
        Assert.Equal(30, seen.Count);
        foreach (var sample in seen)
        {
            var names = profile.FramesOf(sample.StackId).Select(id => profile.Frames[id].DisplayName).ToList();
            Assert.Contains(names, n => n.Contains("ShopEndpoints.SearchOrders", StringComparison.Ordinal));
            foreach (var other in EndpointMethods.Where(m => m != "ShopEndpoints.SearchOrders"))
                Assert.DoesNotContain(names, n => n.Contains(other, StringComparison.Ordinal));
        }

        var text = SnapperCli.Run("report", "--db", db, "--format", "text");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("focus        : /ShopEndpoints\\.SearchOrders/: kept 30 of", text.Stdout);
    }

    [Fact]
    public async Task Report_focus_narrows_a_stored_mixed_capture_to_one_endpoint()
    {
        using var dir = new TempDirectory();
        var db = dir.File("mixed.db");
        SnapperCli.Result capture;
        await using (var load = new HttpLoad(shop.BaseAddress, Endpoints.Select(e => (string)e[0]).ToList(), perPath: 1))
        {
            await Task.Delay(1000);
            var info = SnapperCli.StartInfo("sample", "--pid", shop.Target.Pid.ToString(), "--duration", "4s", "--db", db, "--no-report", "--quiet");
            capture = SnapperCli.Run(info);
        }
        Assert.True(capture.ExitCode == 0, capture.ToString());

        var all = SnapperCli.Run("report", "--db", db, "--format", "json");
        var focused = SnapperCli.Run("report", "--db", db, "--format", "json", "--focus", "ShopEndpoints.Recommend");
        Assert.True(focused.ExitCode == 0, focused.ToString());
        using var allJson = JsonDocument.Parse(all.Stdout);
        using var json = JsonDocument.Parse(focused.Stdout);
        var view = json.RootElement.GetProperty("view");
        var seen = view.GetProperty("focus").GetProperty("seen").GetInt64();
        var kept = view.GetProperty("focus").GetProperty("kept").GetInt64();
        Assert.Equal(allJson.RootElement.GetProperty("view").GetProperty("samples").GetInt64(), seen);
        Assert.Equal(kept, view.GetProperty("samples").GetInt64());
        Assert.True(kept > 0 && kept < seen, $"kept {kept} of {seen}");
        // Several layers in the whole capture; the focused view is the endpoint's own.
        Assert.True(allJson.RootElement.GetProperty("layers").GetProperty("overall").GetArrayLength() >= 4, all.Stdout[..Math.Min(2000, all.Stdout.Length)]);
        var top = json.RootElement.GetProperty("layers").GetProperty("overall")[0];
        Assert.Equal("app", top.GetProperty("layer").GetString());
        Assert.True(top.GetProperty("percent").GetDouble() >= 80, focused.Stdout[..2000]);
        Assert.All(json.RootElement.GetProperty("topFunctions").EnumerateArray(),
            f => Assert.DoesNotContain("SearchOrders", f.GetProperty("name").GetString()!, StringComparison.Ordinal));

        // Exports narrow the same way: every folded stack goes through Recommend.
        var folded = SnapperCli.Run("export", "--db", db, "-f", "folded", "-o", "-", "--focus", "ShopEndpoints.Recommend");
        Assert.True(folded.ExitCode == 0, folded.ToString());
        var lines = folded.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(kept, lines.Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(lines, l => Assert.Contains("ShopEndpoints.Recommend", l, StringComparison.Ordinal));

        // The SQL layer alone, as a filter: only SQL frames' samples, all of them under SearchOrders.
        var sql = SnapperCli.Run("report", "--db", db, "--format", "json", "--layer", "sql");
        using var sqlJson = JsonDocument.Parse(sql.Stdout);
        var sqlLayers = sqlJson.RootElement.GetProperty("layers").GetProperty("overall");
        Assert.Equal("sql", Assert.Single(sqlLayers.EnumerateArray()).GetProperty("layer").GetString());
        Assert.Contains(sqlJson.RootElement.GetProperty("topFunctions").EnumerateArray(),
            f => f.GetProperty("name").GetString() == "Shop.ShopEndpoints.SearchOrders");
    }
}

/// <summary>Bad layer and focus options: one line on stderr and a documented exit code, before any store is touched.</summary>
public sealed class LayerOptionErrorTests
{
    [Fact]
    public void A_bad_rules_file_exits_12_with_one_line()
    {
        using var dir = new TempDirectory();
        var rules = dir.File("rules.json");
        File.WriteAllText(rules, """{ "frames": [ { "layer": "bus", "match": "Shop.Bus.*" } ] }""");
        foreach (var args in new[] { new[] { "report", "--layers", rules }, ["sample", "--pid", "1", "--layers", rules], ["report", "--layers", dir.File("missing.json")] })
        {
            var result = SnapperCli.Run([.. args, "--db", dir.File("none.db")]);
            Assert.True(result.ExitCode == 12, result.ToString());
            Assert.Single(result.Stderr.TrimEnd().Split('\n'));
            Assert.StartsWith("error: ", result.Stderr);
        }
    }

    [Fact]
    public void Bad_layer_and_focus_values_exit_2_with_one_line()
    {
        using var dir = new TempDirectory();
        foreach (var (args, expected) in new[]
        {
            (new[] { "report", "--layer", "sql,nope" }, "no layer named 'nope'"),
            (["report", "--focus", "("], "--focus '(' is not a valid regular expression"),
            (["export", "-f", "folded", "--layer", "nope"], "no layer named 'nope'"),
            (["sample", "--pid", "1", "--focus-count", "5"], "--focus-count goes with --focus"),
            (["sample", "--pid", "1", "--focus", "X", "--focus-count", "0"], "--focus-count must be a positive number"),
        })
        {
            var result = SnapperCli.Run([.. args, "--db", dir.File("none.db")]);
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Contains(expected, result.Stderr);
        }
    }
}
