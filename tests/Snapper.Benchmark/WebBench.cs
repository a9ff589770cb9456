using System.Diagnostics;
using System.Globalization;
using Snapper.Sampling;
using Snapper.Store;

namespace Snapper.Benchmark;

/// <summary>
/// The benchmark on a service whose threads change their stacks between samples (the case the 13- and 200-thread
/// targets hide): examples/ShopService under wrk, 16 connections, a fixed mix of its endpoints (<see cref="ShopUnderLoad"/>).
/// After a warm-up, each round has three windows of the same length: unsampled, sampled by Snapper at 100 Hz, and
/// sampled by dotnet-trace's sampled-thread-time profile (about 100 Hz, in-process); and a fourth, Snapper without lock
/// holders (SNAPPER_LOCK_HOLDERS=off), which prices them (it comes before Snapper's window in odd rounds, after it in
/// even ones, so neither is always the later one). Each profiler is started before
/// its window and stopped after it, so start-up and rundown fall outside. Requests/s and p99 latency come from wrk;
/// each profiled window is compared with the round's unsampled one. Needs wrk and dotnet-trace
/// (dotnet tool install -g dotnet-trace).
/// </summary>
static class WebBench
{
    public static List<WebMeasurement> Run(int rounds, TimeSpan window, string db)
    {
        var dotnetTrace = ShopUnderLoad.Tool("dotnet-trace", "dotnet tool install -g dotnet-trace");
        var dir = Path.GetDirectoryName(db)!;
        using var shop = ShopUnderLoad.Start(dir);
        // Warm-up: the service's JIT tiers settle, connection pools fill; Snapper's and dotnet-trace's first use too.
        shop.Load(TimeSpan.FromSeconds(15));
        SnapperWindow(shop, TimeSpan.FromSeconds(3), db);
        TraceWindow(dotnetTrace, shop, TimeSpan.FromSeconds(3), dir);

        var results = new List<WebMeasurement> { new("unsampled"), new("snapper 100 Hz"), new("dotnet-trace"), new("snapper, lock holders off") };
        for (var round = 0; round < rounds; round++)
        {
            var plain = shop.Load(window);
            results[0].Add(plain, plain);
            var withoutHoldersFirst = round % 2 == 1;
            var withoutHolders = withoutHoldersFirst ? SnapperWindow(shop, window, db, lockHolders: false) : null;
            var snapper = SnapperWindow(shop, window, db);
            results[1].Add(snapper.Load, plain, snapper);
            withoutHolders ??= SnapperWindow(shop, window, db, lockHolders: false);
            results[3].Add(withoutHolders.Load, plain, withoutHolders);
            var trace = TraceWindow(dotnetTrace, shop, window, dir);
            results[2].Add(trace, plain);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  round {round + 1}: unsampled {plain.RequestsPerSecond:F0} req/s p99 {plain.P99Ms:F1} ms; snapper {snapper.Load.RequestsPerSecond:F0} ({snapper.Load.RequestsPerSecond / plain.RequestsPerSecond:F3}) p99 {snapper.Load.P99Ms:F1} ms, {snapper.AchievedHz:F1} Hz, pause p50 {snapper.PauseP50Ms:F2} p99 {snapper.PauseP99Ms:F2} ms, cpu {snapper.CpuMsPerSample:F3} ms/sample, stopped {snapper.ThreadsStopped:F1}/sample; without lock holders {withoutHolders.Load.RequestsPerSecond / plain.RequestsPerSecond:F3}, cpu {withoutHolders.CpuMsPerSample:F3} ms/sample; dotnet-trace {trace.RequestsPerSecond:F0} ({trace.RequestsPerSecond / plain.RequestsPerSecond:F3}) p99 {trace.P99Ms:F1} ms"));
        }
        return results;
    }

    /// <summary>A profiled window's numbers besides the load: Snapper's own, from the capture.</summary>
    /// <param name="LockWaitsPerSnapshot">Samples blocked entering a lock (each named with its holder when Snapper could).</param>
    /// <param name="HoldersNamed">The share of those waits that named the lock's holder.</param>
    public sealed record SnapperNumbers(ShopUnderLoad.LoadResult Load, double AchievedHz, double PauseP50Ms, double PauseP99Ms, double CpuMsPerSample,
        double ThreadsStopped, double ThreadsPerSnapshot, string Phases, double LockWaitsPerSnapshot, double HoldersNamed);

    static SnapperNumbers SnapperWindow(ShopUnderLoad shop, TimeSpan window, string db, bool lockHolders = true)
    {
        using var store = SnapperDatabase.Open(db);
        using var first = new ManualResetEventSlim();
        using var stop = new CancellationTokenSource();
        var plan = new SamplingPlan(TimeSpan.FromMilliseconds(10), null, null);
        var options = new CaptureOptions(TargetProcess.Inspect(shop.Pid), plan, Engine.Ptrace, 256, "benchmark --web", LockHolders: lockHolders);
        var capture = Task.Run(() => CaptureRunner.Run(store, options, stop.Token, (n, _) => { if (n == 1) first.Set(); }));
        if (Task.WaitAny(capture, Task.Run(first.Wait)) == 0) capture.GetAwaiter().GetResult();
        var cpuFrom = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var load = shop.Load(window);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuFrom).TotalSeconds;
        stop.Cancel();
        var result = capture.GetAwaiter().GetResult();
        var session = SessionQueries.Find(store, result.SessionId)!;
        var profile = ProfileReader.Load(store, session);
        // The snapshots inside the load window: after the first, within the window's length.
        var inWindow = profile.Snapshots.Skip(1).Where(s => s.OffsetUs - profile.Snapshots[0].OffsetUs <= seconds * 1e6).ToList();
        var pauses = inWindow.Select(s => s.PauseUs).Order().ToArray();
        var samples = profile.Samples.Count(s => s.Sequence > 0 && inWindow.Count > 0 && s.Sequence <= inWindow[^1].Sequence);
        var timings = result.Timings;
        var waits = profile.LockWaits.Where(w => w.Sequence > 0 && inWindow.Count > 0 && w.Sequence <= inWindow[^1].Sequence).ToList();
        return new SnapperNumbers(load, inWindow.Count / seconds, Percentile(pauses, 0.5) / 1000.0, Percentile(pauses, 0.99) / 1000.0,
            cpu * 1000 / Math.Max(1, inWindow.Count), timings.Snapshots == 0 ? 0 : (double)timings.ThreadsStopped / timings.Snapshots,
            (double)samples / Math.Max(1, inWindow.Count),
            string.Join(", ", timings.Means().Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Phase} {p.Ms:F3}"))),
            (double)waits.Count / Math.Max(1, inWindow.Count), waits.Count == 0 ? 0 : (double)waits.Count(w => w.OwnerThreadId is not null) / waits.Count);
    }

    static ShopUnderLoad.LoadResult TraceWindow(string dotnetTrace, ShopUnderLoad shop, TimeSpan window, string dir)
    {
        var output = Path.Combine(dir, "trace.nettrace");
        // --duration ends the session by itself: with its output redirected dotnet-trace neither prints "Recording
        // trace" nor reads Enter from stdin, so the window is timed from the line naming its output file.
        var duration = TimeSpan.FromSeconds(Math.Ceiling(window.TotalSeconds) + 3);
        var info = new ProcessStartInfo(dotnetTrace, ["collect", "-p", shop.Pid.ToString(CultureInfo.InvariantCulture), "--profile", "dotnet-sampled-thread-time",
            "--duration", duration.ToString(@"dd\:hh\:mm\:ss", CultureInfo.InvariantCulture), "-o", output])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var trace = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet-trace");
        var errors = trace.StandardError.ReadToEndAsync();
        while (trace.StandardOutput.ReadLine() is { } line && !line.Contains("Output File", StringComparison.OrdinalIgnoreCase)) { }
        var outputDrain = trace.StandardOutput.ReadToEndAsync();
        if (trace.HasExited) throw new InvalidOperationException($"dotnet-trace exited: {errors.Result}");
        Thread.Sleep(500); // the session's providers are enabled just after that line
        var load = shop.Load(window);
        if (!trace.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            trace.Kill();
            throw new InvalidOperationException("dotnet-trace did not stop");
        }
        _ = outputDrain.Result;
        File.Delete(output);
        return load;
    }

    static long Percentile(long[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>One configuration of the web benchmark over its rounds: each round's numbers, against that round's unsampled window.</summary>
sealed class WebMeasurement(string profiler)
{
    public string Profiler { get; } = profiler;
    public List<double> Ratios { get; } = [];
    public List<double> P99Ratios { get; } = [];
    public List<ShopUnderLoad.LoadResult> Loads { get; } = [];
    public List<WebBench.SnapperNumbers> Snapper { get; } = [];

    public void Add(ShopUnderLoad.LoadResult load, ShopUnderLoad.LoadResult unsampled, WebBench.SnapperNumbers? snapper = null)
    {
        Loads.Add(load);
        Ratios.Add(load.RequestsPerSecond / unsampled.RequestsPerSecond);
        P99Ratios.Add(load.P99Ms / unsampled.P99Ms);
        if (snapper is not null) Snapper.Add(snapper);
    }
}
