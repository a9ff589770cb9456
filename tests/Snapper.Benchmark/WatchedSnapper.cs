using System.Diagnostics;

namespace Snapper.Benchmark;

/// <summary>The snapper command run as a user runs it, its memory read (see <see cref="Footprint"/>) while it runs.</summary>
static class WatchedSnapper
{
    /// <param name="snapper">The snapper.dll to run.</param>
    /// <param name="every">How often its memory is read.</param>
    /// <param name="onReading">Called with each reading (progress).</param>
    /// <returns>What it printed on stdout, and its memory over time; throws with its stderr when it fails.</returns>
    public static (string Stdout, Footprint Memory) Run(string snapper, IEnumerable<string> args, TimeSpan every, Action<Footprint.Reading>? onReading = null)
    {
        var info = new ProcessStartInfo(Snapper.Cli.DotnetHost.Path, [snapper, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start snapper");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var memory = new Footprint();
        var clock = Stopwatch.StartNew();
        while (!process.WaitForExit(every))
            if (memory.Read(process.Id, clock.Elapsed)) onReading?.Invoke(memory.Readings[^1]);
        if (process.ExitCode != 0) throw new InvalidOperationException($"snapper exited {process.ExitCode}: {stderr.Result}{stdout.Result}");
        return (stdout.Result, memory);
    }
}
