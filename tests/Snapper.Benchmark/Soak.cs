using System.Globalization;

namespace Snapper.Benchmark;

/// <summary>
/// A long capture at 100 Hz (<c>--max-overhead off</c>), run as a user runs it: the snapper command. Against the busy
/// benchmark target (4 spinning threads, 9 blocked), or with <c>--target shop</c> against ShopService under wrk for the
/// whole capture. It reports Snapper's memory over time, RssAnon and PSS (see <see cref="Footprint"/>: it must stay
/// flat), and the target's throughput, unsampled, before and after (it must be the same: nothing left behind slows it).
///   dotnet run -c Release --project tests/Snapper.Benchmark -- --soak 60 [--target shop] [--snapper PATH/snapper.dll]
/// </summary>
static class Soak
{
    public static void Run(TimeSpan length, bool shop, string snapper, string dir, TextWriter output)
    {
        if (shop)
        {
            using var service = ShopUnderLoad.Start(dir);
            service.Load(TimeSpan.FromSeconds(15)); // warm-up
            Run(length, service.Pid, "ShopService under wrk -t2 -c16",
                window => service.Load(window).RequestsPerSecond, span => Task.Run(() => service.Load(span)), snapper, dir, output);
        }
        else
        {
            using var target = BenchTarget.Start(["bench", "4", "9"]);
            Run(length, target.Pid, "13-thread target (4 spinning)", target.RateOver, _ => Task.CompletedTask, snapper, dir, output);
        }
    }

    static void Run(TimeSpan length, int pid, string description, Func<TimeSpan, double> unsampled, Func<TimeSpan, Task> loadDuring,
        string snapper, string dir, TextWriter output)
    {
        var before = unsampled(TimeSpan.FromSeconds(10));
        var load = loadDuring(length + TimeSpan.FromSeconds(10));
        var every = TimeSpan.FromSeconds(Math.Clamp(length.TotalSeconds / 60, 2, 30));
        var (stdout, memory) = WatchedSnapper.Run(snapper,
            ["sample", "--pid", pid.ToString(CultureInfo.InvariantCulture), "--rate", "100", "--max-overhead", "off",
             "--duration", $"{(int)length.TotalSeconds}s", "--db", Path.Combine(dir, "soak.db"), "--no-report"], every,
            r => Console.Error.WriteLine($"  {r.At:hh\\:mm\\:ss}  snapper RssAnon {Footprint.Mb(r.RssAnonKb)} MB, PSS {Footprint.Mb(r.PssKb)} MB"));
        load.GetAwaiter().GetResult();
        var after = unsampled(TimeSpan.FromSeconds(10));

        // Memory once warmed up (the first tenth of the run loads the DAC and names the target's methods), to the end.
        var settled = memory.After(length / 10);
        output.WriteLine($"Soak: {length.TotalMinutes:0} min at 100 Hz, {description}. {stdout.Split('\n').Skip(1).FirstOrDefault()?.Trim()}");
        output.WriteLine();
        output.WriteLine("| measure | RssAnon | PSS |");
        output.WriteLine("|---|---:|---:|");
        output.WriteLine($"| Snapper's memory after warm-up (first tenth) | {Mb(settled.FirstOrDefault().RssAnonKb)} | {Mb(settled.FirstOrDefault().PssKb)} |");
        output.WriteLine($"| at the end | {Mb(settled.LastOrDefault().RssAnonKb)} | {Mb(settled.LastOrDefault().PssKb)} |");
        output.WriteLine($"| highest after warm-up | {Mb(settled.Count == 0 ? 0 : settled.Max(m => m.RssAnonKb))} | {Mb(settled.Count == 0 ? 0 : settled.Max(m => m.PssKb))} |");
        output.WriteLine($"| highest during warm-up | {Mb(memory.Readings.Count == 0 ? 0 : memory.Readings.Max(m => m.RssAnonKb))} | {Mb(memory.Readings.Count == 0 ? 0 : memory.Readings.Max(m => m.PssKb))} |");
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Target throughput unsampled, after / before: {after / before:0.000}"));
        output.WriteLine("RssAnon every " + every.TotalSeconds + " s (MB): " + string.Join(" ", memory.Readings.Select(r => Footprint.Mb(r.RssAnonKb))));
    }

    static string Mb(long kb) => Footprint.Mb(kb) + " MB";
}
