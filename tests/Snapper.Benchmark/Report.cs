using System.Globalization;

namespace Snapper.Benchmark;

/// <summary>Prints the results as the Markdown table the README and docs/benchmarks.md carry, plus the fast/attach ratios.</summary>
static class Report
{
    public static void Print(List<Measurement> results, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"Machine: {Environment.ProcessorCount} vCPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        output.WriteLine();
        output.WriteLine("| target | engine | requested | achieved | pause p50 | pause p99 | pause max | sampler CPU / sample (rounds) | target throughput (rounds) |");
        output.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in results)
            output.WriteLine(string.Create(c,
                $"| {m.Target} | {m.Engine} | {m.Rate:0} Hz | {m.AchievedRate:F1} Hz | {m.PauseMs(0.5):F2} ms | {m.PauseMs(0.99):F2} ms | {m.PauseMs(1):F2} ms | {m.CpuPerSampleMs:F3} ms ({Measurement.Spread(m.CpuPerSampleMsByRound, "F3")}) | {m.ThroughputRatio:F3} ({Measurement.Spread(m.ThroughputRatios, "F3")}) |"));
        output.WriteLine();
        foreach (var group in results.GroupBy(m => (m.Target, m.Rate)))
        {
            var fast = group.FirstOrDefault(m => m.Engine == "ptrace");
            var withNative = group.FirstOrDefault(m => m.Engine == "ptrace --native");
            if (fast is not null && withNative is not null)
                output.WriteLine(string.Create(c,
                    $"- {group.Key.Target} at {group.Key.Rate:0} Hz: --native changes sampler CPU per sample by {Signed(withNative.CpuPerSampleMs - fast.CpuPerSampleMs)} ms ({withNative.CpuPerSampleMs:F3} vs {fast.CpuPerSampleMs:F3}), pause p50 {withNative.PauseMs(0.5):F2} vs {fast.PauseMs(0.5):F2} ms"));
            var dac = group.FirstOrDefault(m => m.Engine == "ptrace, DAC walk");
            if (fast is not null && dac is not null && fast.CpuPerSampleMs > 0 && fast.PauseMs(0.5) > 0)
                output.WriteLine(string.Create(c,
                    $"- {group.Key.Target} at {group.Key.Rate:0} Hz: the DAC walk costs {dac.CpuPerSampleMs / fast.CpuPerSampleMs:F1}x the fast walk's CPU per sample, {dac.PauseMs(0.5) / fast.PauseMs(0.5):F1}x its pause p50; throughput {fast.ThroughputRatio:F3} vs {dac.ThroughputRatio:F3}"));
            var attach = group.FirstOrDefault(m => m.Engine == "attach");
            if (fast is null || attach is null || fast.PauseMs(0.5) == 0) continue;
            output.WriteLine(string.Create(c,
                $"- {group.Key.Target} at {group.Key.Rate:0} Hz: attach/ptrace pause p50 = {attach.PauseMs(0.5) / fast.PauseMs(0.5):F1}x, CPU per sample = {attach.CpuPerSampleMs / Math.Max(1e-9, fast.CpuPerSampleMs):F1}x"));
        }
    }

    /// <summary>The web benchmark's table: per profiler the median of the rounds and their spread (min-max).</summary>
    public static void PrintWeb(List<WebMeasurement> results, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"Machine: {Environment.ProcessorCount} vCPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        output.WriteLine($"ShopService under wrk -t2 -c16, {results[0].Loads.Count} rounds; ratios against each round's unsampled window: median (min-max)");
        output.WriteLine();
        output.WriteLine("| profiler | requests/s | vs unsampled | p99 latency | p99 vs unsampled | achieved | pause p50 | pause p99 | Snapper CPU / sample | threads stopped / sample |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in results)
        {
            var row = string.Create(c, $"| {m.Profiler} | {Median(m.Loads.Select(l => l.RequestsPerSecond)):F0} | {Spread(m.Ratios, "F3")} | {Median(m.Loads.Select(l => l.P99Ms)):F1} ms | {Spread(m.P99Ratios, "F2")} |");
            row += m.Snapper.Count == 0
                ? " | | | | |"
                : string.Create(c, $" {Median(m.Snapper.Select(s => s.AchievedHz)):F1} Hz | {Spread(m.Snapper.Select(s => s.PauseP50Ms), "F2")} ms | {Spread(m.Snapper.Select(s => s.PauseP99Ms), "F2")} ms | {Spread(m.Snapper.Select(s => s.CpuMsPerSample), "F3")} ms | {Median(m.Snapper.Select(s => s.ThreadsStopped)):F1} of {Median(m.Snapper.Select(s => s.ThreadsPerSnapshot)):F1} |");
            output.WriteLine(row);
        }
        foreach (var m in results.Where(m => m.Snapper.Count > 0))
            foreach (var s in m.Snapper)
                output.WriteLine(string.Create(c, $"- {m.Profiler} phases (ms/sample): {s.Phases}; lock waits {s.LockWaitsPerSnapshot:F2} a snapshot, {100 * s.HoldersNamed:F0}% naming their holder"));
    }

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    static string Spread(IEnumerable<double> values, string format)
    {
        var list = values.ToList();
        return $"{Median(list).ToString(format, CultureInfo.InvariantCulture)} ({list.Min().ToString(format, CultureInfo.InvariantCulture)}-{list.Max().ToString(format, CultureInfo.InvariantCulture)})";
    }

    /// <summary>"+0.012" or "-0.003": a difference with its sign, never "-+0.000" for a tiny negative one.</summary>
    static string Signed(double value) =>
        (Math.Round(value, 3) < 0 ? "-" : "+") + Math.Abs(value).ToString("0.000", CultureInfo.InvariantCulture);
}
