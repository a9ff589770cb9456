using System.Globalization;
using Snapper.Store;

namespace Snapper.Benchmark;

/// <summary>
/// Overhead budgets on a loaded service: ShopService under wrk (<see cref="ShopUnderLoad"/>), captured for a window
/// by the snapper command as an operator runs it (100 Hz, <c>--max-overhead off</c>, then each budget), after an
/// unsampled window of the same length. For each capture: the overhead the session measured against its budget, the
/// rate it came to, the service's requests/s against the unsampled window, Snapper's memory (RssAnon, PSS), and the
/// share of each endpoint's work (weighted samples with the endpoint's handler on the stack, of all samples with any)
/// set against the unthrottled capture's, with the standard error of the difference (samples taken as independent:
/// threads of one snapshot are not quite, so it is a floor).
///   dotnet run -c Release --project tests/Snapper.Benchmark -- --budget [--budgets off,5%,1%] [--window 60] [--snapper PATH/snapper.dll]
/// Give --snapper a published snapper (dotnet publish src/Snapper -c Release): ReadyToRun and no tiering, as users run
/// it; the snapper.dll beside the benchmark JIT-compiles itself during the first captures' seconds.
/// </summary>
static class BudgetBench
{
    /// <summary>
    /// Each endpoint of the mix and frames its requests run in. The one-line handlers of /catalog and /inventory are
    /// inlined into their route's lambda in a Release build, so what they call names them.
    /// </summary>
    static readonly (string Endpoint, string[] Frames)[] Endpoints =
    [
        ("/orders/search", ["ShopEndpoints.SearchOrders"]), ("/catalog", ["ShopEndpoints.SerializeCatalog", "JsonSerializer.SerializeToUtf8Bytes"]),
        ("/report", ["Views_Shop_Report"]), ("/inventory", ["ShopEndpoints.ReserveStock", "Inventory.Reserve"]),
        ("/prices", ["ShopEndpoints.FetchPrices"]), ("/recommend", ["ShopEndpoints.Recommend"]),
    ];

    sealed record Row(string Budget, TimeSpan Length, OverheadRecord? Overhead, double AchievedHz, int Snapshots,
        double RequestsPerSecond, Footprint Memory, Dictionary<string, double> Shares, long EndpointSamples);

    public static void Run(IReadOnlyList<string> budgets, TimeSpan window, string snapper, string dir, TextWriter output)
    {
        using var shop = ShopUnderLoad.Start(dir);
        shop.Load(TimeSpan.FromSeconds(15)); // the service's JIT tiers settle, its pools fill
        var unsampled = shop.Load(window);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  unsampled: {unsampled.RequestsPerSecond:F0} req/s"));
        var rows = new List<Row>();
        foreach (var budget in budgets)
        {
            var row = Capture(shop, snapper, budget, window, Path.Combine(dir, "budget.db"));
            rows.Add(row);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {budget}: overhead {Percent(row.Overhead?.Overhead)} (pause {Percent(row.Overhead?.PauseShare)}, cpu {Percent(row.Overhead?.CpuShare)}), {row.AchievedHz:F1} Hz, {row.RequestsPerSecond:F0} req/s, RssAnon {Footprint.Describe(row.Memory.Readings, r => r.RssAnonKb)}"));
        }
        Print(rows, unsampled, output);
    }

    static Row Capture(ShopUnderLoad shop, string snapper, string budget, TimeSpan window, string db)
    {
        var seconds = (int)window.TotalSeconds;
        // wrk runs across the whole capture (its start-up and the report-free exit included).
        var load = Task.Run(() => shop.Load(TimeSpan.FromSeconds(seconds + 4)));
        Thread.Sleep(1000);
        var (_, memory) = WatchedSnapper.Run(snapper,
            ["sample", "--pid", shop.Pid.ToString(CultureInfo.InvariantCulture), "--rate", "100", "--duration", $"{seconds}s",
             "--max-overhead", budget, "--db", db, "--no-report", "--quiet"], TimeSpan.FromSeconds(2));
        var wrk = load.GetAwaiter().GetResult();

        using var store = SnapperDatabase.Open(db, create: false);
        var session = SessionQueries.List(store).MaxBy(s => s.Id)!;
        var profile = ProfileReader.Load(store, session);
        var (shares, samples) = EndpointShares(profile);
        return new Row(budget, window, session.Overhead, session.AchievedRate, session.SnapshotCount, wrk.RequestsPerSecond, memory, shares, samples);
    }

    /// <summary>Each endpoint's weighted samples as a share of all samples with an endpoint's frame; and how many those were (unweighted).</summary>
    static (Dictionary<string, double> Shares, long Samples) EndpointShares(Profile profile)
    {
        var weights = Endpoints.ToDictionary(e => e.Endpoint, _ => 0.0);
        var byStack = new Dictionary<int, string?>();
        long samples = 0;
        double total = 0;
        foreach (var sample in profile.Samples)
        {
            if (sample.Wall == 0) continue;
            if (!byStack.TryGetValue(sample.StackId, out var endpoint))
                byStack[sample.StackId] = endpoint = EndpointOf(profile, sample.StackId);
            if (endpoint is null) continue;
            weights[endpoint] += sample.Wall;
            total += sample.Wall;
            samples++;
        }
        return (weights.ToDictionary(w => w.Key, w => total == 0 ? 0 : w.Value / total), samples);
    }

    static string? EndpointOf(Profile profile, int stackId)
    {
        foreach (var frame in profile.FramesOf(stackId))
        {
            var name = profile.Frames[frame].DisplayName;
            foreach (var (endpoint, markers) in Endpoints)
                if (markers.Any(m => name.Contains(m, StringComparison.Ordinal))) return endpoint;
        }
        return null;
    }

    static void Print(List<Row> rows, ShopUnderLoad.LoadResult unsampled, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        var reference = rows.FirstOrDefault(r => r.Budget == "off");
        output.WriteLine($"Machine: {Environment.ProcessorCount} vCPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        output.WriteLine(string.Create(c, $"ShopService under wrk -t2 -c16; snapper sample --rate 100 for {rows[0].Length.TotalSeconds:0} s a capture; unsampled {unsampled.RequestsPerSecond:F0} requests/s over the same length before them"));
        output.WriteLine();
        output.WriteLine("| budget | overhead (pause, CPU) | within | achieved | snapshots | requests/s vs unsampled | Snapper RssAnon | Snapper PSS | endpoint samples | largest share difference vs off |");
        output.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var within = row.Overhead?.Budget is { } b ? (row.Overhead.Overhead <= b ? "yes" : "**no**") : "";
            var difference = reference is null || ReferenceEquals(row, reference) ? "" : Difference(row, reference);
            output.WriteLine(string.Create(c,
                $"| {row.Budget} | {Percent(row.Overhead?.Overhead)} ({Percent(row.Overhead?.PauseShare)}, {Percent(row.Overhead?.CpuShare)}) | {within} | {row.AchievedHz:F1} Hz | {row.Snapshots} | {row.RequestsPerSecond / unsampled.RequestsPerSecond:F3} | {Footprint.Describe(row.Memory.Readings, r => r.RssAnonKb)} | {Footprint.Describe(row.Memory.Readings, r => r.PssKb)} | {row.EndpointSamples} | {difference} |"));
        }
        output.WriteLine();
        output.WriteLine("| endpoint | " + string.Join(" | ", rows.Select(r => r.Budget)) + " |");
        output.WriteLine("|---|" + string.Concat(rows.Select(_ => "---:|")));
        foreach (var (endpoint, _) in Endpoints)
            output.WriteLine($"| {endpoint} | " + string.Join(" | ", rows.Select(r => Percent(r.Shares[endpoint]))) + " |");
    }

    /// <summary>"1.4 points (/report), SE 0.9": the endpoint whose share moved most, and the standard error of that difference.</summary>
    static string Difference(Row row, Row reference)
    {
        var (endpoint, _) = Endpoints.MaxBy(e => Math.Abs(row.Shares[e.Endpoint] - reference.Shares[e.Endpoint]));
        var (p, q) = (row.Shares[endpoint], reference.Shares[endpoint]);
        var se = Math.Sqrt(p * (1 - p) / Math.Max(1, row.EndpointSamples) + q * (1 - q) / Math.Max(1, reference.EndpointSamples));
        return string.Create(CultureInfo.InvariantCulture, $"{Math.Abs(p - q) * 100:F1} points ({endpoint}), SE {se * 100:F1}");
    }

    static string Percent(double? share) => share is { } s ? (s * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";
}
