using System.Diagnostics;

namespace Snapper.Benchmark;

/// <summary>A benchmark target process (a Snapper.TestTarget scenario that answers "WORK n"): asks it how much work it has done.</summary>
sealed class BenchTarget : IDisposable
{
    readonly Snapper.Sampling.Linux.DetachedProcess _process;

    public int Pid => _process.Pid;
    public int Threads { get; }

    BenchTarget(Snapper.Sampling.Linux.DetachedProcess process, int threads)
    {
        _process = process;
        Threads = threads;
    }

    /// <param name="scenario">The TestTarget scenario and its arguments: "bench 4 9", "churn 8", "crunch".</param>
    public static BenchTarget Start(string[] scenario)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll");
        // Not a tracked child of this process: see DetachedProcess for why that matters when tracing it.
        var process = Snapper.Sampling.Linux.DetachedProcess.Start(Snapper.Cli.DotnetHost.Path, [dll, .. scenario]);
        var ready = process.Output.ReadLine();
        if (ready?.StartsWith("READY", StringComparison.Ordinal) != true)
            throw new InvalidOperationException($"benchmark target did not start: {ready}");
        return new BenchTarget(process, Directory.GetDirectories($"/proc/{process.Pid}/task").Length);
    }

    /// <summary>Units of work done so far, and when they were read.</summary>
    public (long Work, long Timestamp) Query()
    {
        _process.Input.WriteLine("?");
        _process.Input.Flush();
        var line = _process.Output.ReadLine() ?? throw new InvalidOperationException("benchmark target exited");
        return (long.Parse(line.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture), Stopwatch.GetTimestamp());
    }

    /// <summary>Units of work a second over <paramref name="window"/>, from now.</summary>
    public double RateOver(TimeSpan window)
    {
        var from = Query();
        Thread.Sleep(window);
        return Rate(from, Query());
    }

    public static double Rate((long Work, long Timestamp) from, (long Work, long Timestamp) to) =>
        (to.Work - from.Work) / Stopwatch.GetElapsedTime(from.Timestamp, to.Timestamp).TotalSeconds;

    public void Dispose() => _process.Dispose();
}
