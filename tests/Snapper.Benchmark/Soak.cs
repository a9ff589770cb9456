using System.Diagnostics;
using System.Globalization;

namespace Snapper.Benchmark;

/// <summary>
/// A long capture at 100 Hz against the busy benchmark target (4 spinning threads, 9 blocked), run as a user runs
/// it: the snapper command. It reports Snapper's resident memory over time (it must stay flat) and the target's
/// throughput, unsampled, before and after (it must be the same: nothing left behind slows it).
///   dotnet run -c Release --project tests/Snapper.Benchmark -- --soak 30
/// </summary>
static class Soak
{
    public static void Run(TimeSpan length, string dbPath)
    {
        using var target = BenchTarget.Start(["bench", "4", "9"]);
        var before = Unsampled(target, TimeSpan.FromSeconds(10));
        var snapper = Process.Start(new ProcessStartInfo(Snapper.Cli.DotnetHost.Path,
            [Path.Combine(AppContext.BaseDirectory, "snapper.dll"), "sample", "--pid", target.Pid.ToString(CultureInfo.InvariantCulture),
             "--rate", "100", "--duration", $"{(int)length.TotalSeconds}s", "--db", dbPath, "--no-report"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stdout = snapper.StandardOutput.ReadToEndAsync();
        var stderr = snapper.StandardError.ReadToEndAsync();
        var memory = new List<(TimeSpan At, long Kb)>();
        var clock = Stopwatch.StartNew();
        var every = TimeSpan.FromSeconds(Math.Clamp(length.TotalSeconds / 30, 5, 60));
        while (!snapper.WaitForExit(every))
        {
            if (ResidentKb(snapper.Id) is { } kb) memory.Add((clock.Elapsed, kb));
            Console.Error.WriteLine($"  {clock.Elapsed:mm\\:ss}  snapper RSS {memory.LastOrDefault().Kb / 1024.0:0.0} MB");
        }
        if (snapper.ExitCode != 0) throw new InvalidOperationException($"snapper failed: {stderr.Result}");
        var after = Unsampled(target, TimeSpan.FromSeconds(10));

        // Memory once warmed up (the first tenth of the run loads the DAC and JITs Snapper), to the end.
        var settled = memory.Where(m => m.At >= length / 10).ToList();
        Console.WriteLine($"Soak: {length.TotalMinutes:0} min at 100 Hz, 13-thread target (4 spinning). {stdout.Result.Split('\n')[1].Trim()}");
        Console.WriteLine();
        Console.WriteLine("| measure | result |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| Snapper resident memory after warm-up (first tenth) | {Mb(settled.FirstOrDefault().Kb)} |");
        Console.WriteLine($"| Snapper resident memory at the end | {Mb(settled.LastOrDefault().Kb)} |");
        Console.WriteLine($"| highest after warm-up | {Mb(settled.Count == 0 ? 0 : settled.Max(m => m.Kb))} |");
        Console.WriteLine($"| target throughput unsampled, after / before | {after / before:0.000} |");
    }

    static double Unsampled(BenchTarget target, TimeSpan window)
    {
        var start = target.Query();
        Thread.Sleep(window);
        return BenchTarget.Rate(start, target.Query());
    }

    static long? ResidentKb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    static string Mb(long kb) => (kb / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB";
}
