// Snapper's overhead benchmark. For each target (13 and 200 threads, most blocked; 8 workers whose stacks change all
// the time; one thread whose callers' locals change) it alternates windows without sampling and with sampling, for
// the ptrace engine with its fast walk and with the DAC walking every thread (the previous engine: a same-run A/B)
// at 10 and 100 Hz, in one invocation, and prints pause per sample, sampler CPU per sample, achieved rate and the
// target's throughput relative to the neighbouring unsampled windows. Usage:
//   dotnet run -c Release --project tests/Snapper.Benchmark [-- --rounds 3 --window 4 --quick --attach]
//                                            (--attach adds ClrMD's attach engine; --quick: 13 threads, 100 Hz)
//   dotnet run -c Release --project tests/Snapper.Benchmark -- --native   (13 threads, 100 Hz, ptrace with and without --native)
//   dotnet run -c Release --project tests/Snapper.Benchmark -- --soak 60 [--target shop]   (an hour's soak: see Soak)
//   dotnet run -c Release --project tests/Snapper.Benchmark -- --web [--rounds 3 --window 10]
//                                            (ShopService under wrk: unsampled, Snapper, dotnet-trace: see WebBench)
//   dotnet run -c Release --project tests/Snapper.Benchmark -- --budget [--budgets off,5%,1% --window 60]
//                                            (ShopService under wrk with overhead budgets: see BudgetBench)
//   dotnet run -c Release --project tests/Snapper.Benchmark -- --async-dump [--rounds 5]
//                                            (ShopService under wrk: what each 'dump --async' costs: see AsyncDumpBench)
// --soak, --budget and --async-dump run the snapper command: --snapper PATH/snapper.dll gives a published one (see BudgetBench).
using System.Diagnostics;
using System.Globalization;
using Snapper.Benchmark;
using Snapper.Sampling;
using Snapper.Store;

var snapper = Text("--snapper") ?? Path.Combine(AppContext.BaseDirectory, "snapper.dll");
if (Arg("--soak", 0) is > 0 and var minutes)
{
    using var soakDir = new TempDir();
    Soak.Run(TimeSpan.FromMinutes(minutes), Text("--target") == "shop", snapper, soakDir.Path, Console.Out);
    return 0;
}
if (args.Contains("--budget"))
{
    using var budgetDir = new TempDir();
    BudgetBench.Run((Text("--budgets") ?? "off,5%,1%").Split(','), TimeSpan.FromSeconds(Arg("--window", 60)), snapper, budgetDir.Path, Console.Out);
    return 0;
}
if (args.Contains("--async-dump"))
{
    using var asyncDir = new TempDir();
    AsyncDumpBench.Run(Arg("--rounds", 5), snapper, asyncDir.Path, Console.Out);
    return 0;
}
var rounds = Arg("--rounds", 3);
if (args.Contains("--web"))
{
    using var webDir = new TempDir();
    Report.PrintWeb(WebBench.Run(rounds, TimeSpan.FromSeconds(Arg("--window", 10)), webDir.Db), Console.Out);
    return 0;
}
var window = TimeSpan.FromSeconds(Arg("--window", 4));
var native = args.Contains("--native"); // what unwinding native frames costs: the ptrace engine with and without it
var quick = native || args.Contains("--quick"); // 13 threads, 100 Hz only
var rates = quick ? new[] { 100.0 } : new[] { 10.0, 100.0 };
var only = Text("--target");
(string Label, string[] Scenario)[] allTargets =
[
    ("13 threads", ["bench", "4", "9"]),
    ("200 threads", ["bench", "4", "196"]),
    ("8 workers changing stacks", ["churn", "8"]),
    ("1 thread, callers' locals changing", ["crunch"]),
];
var targets = (quick ? allTargets[..1] : allTargets).Where(t => only is null || t.Scenario[0] == only || t.Label.StartsWith(only, StringComparison.Ordinal)).ToArray();
// Each configuration by the label the table shows.
var engines = native
    ? new Dictionary<string, (Engine Engine, bool Native)> { ["ptrace"] = (Engine.Ptrace, false), ["ptrace --native"] = (Engine.Ptrace, true) }
    : new Dictionary<string, (Engine Engine, bool Native)> { ["ptrace"] = (Engine.Ptrace, false), ["ptrace, DAC walk"] = (Engine.Dac, false) };
if (args.Contains("--attach")) engines["attach"] = (Engine.Attach, false);

using var dir = new TempDir();
var results = new List<Measurement>();
foreach (var (label, scenario) in targets)
{
    using var target = BenchTarget.Start(scenario);
    Console.Error.WriteLine($"# {label}: pid {target.Pid}, {target.Threads} threads in all ({string.Join(' ', scenario)})");
    // Warm up: the DAC load and Snapper's own JIT (tiered compilation settles after a few seconds of sampling).
    Capture(target, Engine.Ptrace, native, 100, TimeSpan.FromSeconds(4), dir.Db);
    if (engines.ContainsKey("attach")) Capture(target, Engine.Attach, false, 10, TimeSpan.FromSeconds(1), dir.Db);
    var configs = engines.Keys.SelectMany(e => rates.Select(r => new Measurement(label, e, r))).ToList();
    for (var round = 0; round < rounds; round++)
    {
        foreach (var m in configs)
        {
            var before = target.RateOver(window);
            var (engine, unwind) = engines[m.Engine];
            var (ratioRate, samples, seconds, cpu, pauses) = Capture(target, engine, unwind, m.Rate, window, dir.Db);
            var after = target.RateOver(window);
            m.ThroughputRatios.Add(ratioRate / ((before + after) / 2));
            m.CpuPerSampleMsByRound.Add(cpu * 1000 / Math.Max(1, samples));
            m.Samples += samples;
            m.SampledSeconds += seconds;
            m.CpuSeconds += cpu;
            m.PausesUs.AddRange(pauses);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  round {round + 1} {m.Engine,-15} {m.Rate,5:0} Hz: {samples / seconds,6:F1} Hz, ratio {ratioRate / ((before + after) / 2):F3}, cpu {cpu * 1000 / Math.Max(1, samples):F2} ms/sample"));
        }
    }
    results.AddRange(configs);
}
Report.Print(results, Console.Out);
return 0;

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

string? Text(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

/// <summary>
/// One sampled window through the real capture pipeline (source, loop, channel, SQLite writer). The window and the
/// CPU count start at the first sample, so opening the session (a one-off cost) is not charged per sample.
/// </summary>
static (double Rate, int Samples, double Seconds, double CpuSeconds, List<long> PausesUs) Capture(
    BenchTarget target, Engine engine, bool nativeFrames, double rate, TimeSpan window, string db)
{
    using var store = SnapperDatabase.Open(db);
    using var first = new ManualResetEventSlim();
    var plan = new SamplingPlan(TimeSpan.FromSeconds(1 / rate), null, window + TimeSpan.FromSeconds(0.5));
    var options = new CaptureOptions(TargetProcess.Inspect(target.Pid), plan, engine, 256, "benchmark", NativeFrames: nativeFrames);
    double samplerCpuFirst = 0, samplerCpuLast = 0;
    // The progress callback runs on the sampling thread: read that thread's own CPU clock there.
    var capture = Task.Run(() => CaptureRunner.Run(store, options, CancellationToken.None, (n, _) =>
    {
        samplerCpuLast = ThreadCpu.CurrentThreadSeconds();
        if (n != 1) return;
        samplerCpuFirst = samplerCpuLast;
        first.Set();
    }));
    // If the capture fails before its first sample, surface its error instead of waiting forever.
    if (Task.WaitAny(capture, Task.Run(first.Wait)) == 0) capture.GetAwaiter().GetResult();
    var from = target.Query();
    var cpuFrom = Process.GetCurrentProcess().TotalProcessorTime;
    var threadsFrom = ThreadCpu.Snapshot();
    var result = capture.GetAwaiter().GetResult();
    var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuFrom).TotalSeconds;
    var threadsTo = ThreadCpu.Snapshot();
    var to = target.Query();
    var session = SessionQueries.Find(store, result.SessionId)!;
    var profile = ProfileReader.Load(store, session);
    var seconds = Stopwatch.GetElapsedTime(from.Timestamp, to.Timestamp).TotalSeconds;
    Console.Error.WriteLine("    cpu by thread (ms/sample): " + string.Create(CultureInfo.InvariantCulture,
        $"sampler {(samplerCpuLast - samplerCpuFirst) * 1000 / Math.Max(1, session.SnapshotCount - 1):F3}, ") + ThreadCpu.Delta(threadsFrom, threadsTo, session.SnapshotCount - 1));
    if (result.Timings.Snapshots > 0)
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    threads stopped per sample: {(double)result.Timings.ThreadsStopped / result.Timings.Snapshots:F2}, read without a stop: {(double)result.Timings.RunningUnstopped / result.Timings.Snapshots:F2}, memory reads per sample: {(double)result.Timings.MemoryReads / result.Timings.Snapshots:F1}"));
    if (result.Timings.Snapshots > 0)
        Console.Error.WriteLine("    phases (ms/sample): " + string.Join(", ", result.Timings.Means().Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Phase} {p.Ms:F3}"))));
    // Samples after the first one fall inside the measured window.
    return (BenchTarget.Rate(from, to), session.SnapshotCount - 1, seconds, cpu, profile.Snapshots.Skip(1).Select(s => s.PauseUs).ToList());
}

sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("snapper-bench-").FullName;
    public string Db => System.IO.Path.Combine(Path, "bench.db");
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
