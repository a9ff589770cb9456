using System.Globalization;
using System.Text.Json;

namespace Snapper.Benchmark;

/// <summary>
/// What <c>snapper dump --async</c> costs the target (issue 19): ShopService under wrk (the web benchmark's mix), one
/// dump every few seconds, each walking the GC heap for pending async chains while every thread is held. Prints, per
/// dump, the heap's size and objects, the walk's time (and the part spent reading pending tasks) and how long the target
/// was held, so the cost per object and per MB can be read off. Runs the snapper command given with --snapper.
///   dotnet run -c Release --project tests/Snapper.Benchmark -- --async-dump [--rounds 5] [--snapper PATH/snapper.dll]
/// </summary>
static class AsyncDumpBench
{
    public static void Run(int dumps, string snapper, string dir, TextWriter output)
    {
        using var service = ShopUnderLoad.Start(dir);
        service.Load(TimeSpan.FromSeconds(10)); // warm-up
        var load = Task.Run(() => service.Load(TimeSpan.FromSeconds(8 + 4 * dumps)));
        Thread.Sleep(3000); // the load under way
        output.WriteLine($"Pending async walk of ShopService under wrk -t2 -c16 (the web benchmark's mix), {dumps} dumps, each in one stop of every thread:");
        output.WriteLine();
        output.WriteLine("| dump | heap | objects walked | chains | walk | of it reading pending tasks | target held | walk per 100k objects |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (var i = 1; i <= dumps; i++)
        {
            using var json = JsonDocument.Parse(Dump(snapper, service.Pid));
            var root = json.RootElement;
            var async = root.GetProperty("async");
            if (!async.GetProperty("walkable").GetBoolean() || async.TryGetProperty("error", out _))
            {
                output.WriteLine($"| {i} | not walked: {(async.TryGetProperty("error", out var error) ? error.GetString() : "a collection was under way")} | | | | | | |");
                Thread.Sleep(3000);
                continue;
            }
            var objects = async.GetProperty("objectsWalked").GetInt64();
            var walkMs = async.GetProperty("walkMs").GetDouble();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {i} | {async.GetProperty("heapBytes").GetInt64() / 1e6:F1} MB | {objects:N0} | {async.GetProperty("chains").GetInt32()} | {walkMs:F0} ms | {async.GetProperty("readingPendingMs").GetDouble():F0} ms | {root.GetProperty("pauseMs").GetDouble():F0} ms | {(objects == 0 ? 0 : walkMs * 100_000 / objects):F0} ms |"));
            Thread.Sleep(3000);
        }
        load.GetAwaiter().GetResult();
    }

    /// <summary>One <c>snapper dump --async --format json</c>, run as the soak runs snapper (WatchedSnapper).</summary>
    static string Dump(string snapper, int pid) =>
        WatchedSnapper.Run(snapper, ["dump", "--pid", pid.ToString(CultureInfo.InvariantCulture), "--async", "--format", "json"], TimeSpan.FromSeconds(1)).Stdout;
}
