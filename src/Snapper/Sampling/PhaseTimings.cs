using System.Diagnostics;

namespace Snapper.Sampling;

/// <summary>
/// Where a source spends its time per snapshot, accumulated over a capture: the benchmark prints it so the
/// benchmark docs (docs/benchmarks.md, docs/web-benchmark.md) can say what limits the engine, measured rather than guessed.
/// </summary>
public sealed class PhaseTimings
{
    /// <summary>The phases of a snapshot, in the order <see cref="Names"/> prints them.</summary>
    public enum Phase { SurveyThreads, Choose, Stop, Flush, Walk, NativeUnwind, Resume, Name, WalkWithoutStop }

    /// <summary>Each phase's name as the <c>-v</c> line and the benchmark print it, in <see cref="Phase"/>'s order.</summary>
    public static readonly string[] Names = Enum.GetValues<Phase>().Select(NameOf).ToArray();

    static string NameOf(Phase phase) => phase switch
    {
        Phase.SurveyThreads => "survey threads",
        Phase.Choose => "choose",
        Phase.Stop => "stop",
        Phase.Flush => "flush",
        Phase.Walk => "walk",
        Phase.NativeUnwind => "native unwind",
        Phase.Resume => "resume",
        Phase.Name => "name",
        Phase.WalkWithoutStop => "walk without a stop",
        _ => throw new ArgumentOutOfRangeException(nameof(phase)),
    };

    readonly long[] _ticks = new long[Names.Length];
    long _last;

    public int Snapshots { get; private set; }

    /// <summary>Threads stopped, summed over snapshots: the cost follows this, not the thread count.</summary>
    public long ThreadsStopped { get; private set; }

    public void CountStopped(int threads) => ThreadsStopped += threads;

    /// <summary>Stopped threads whose stacks needed no walk (see RunningStackReuse), summed over snapshots.</summary>
    public long RunningReused { get; private set; }

    public void CountReusedRunning(int threads) => RunningReused += threads;

    /// <summary>Running threads waiting for a CPU, still looping where they were: reused without a stop, summed over snapshots.</summary>
    public long RunningUnstopped { get; private set; }

    public void CountUnstopped(int threads) => RunningUnstopped += threads;

    /// <summary>Threads taken without a stop that had moved by the time the others were stopped, so were stopped too (see MovedSinceSurvey), summed over snapshots.</summary>
    public long MovedSinceSurvey { get; private set; }

    public void CountMovedSinceSurvey(int threads) => MovedSinceSurvey += threads;

    /// <summary>Threads not on a CPU walked without a stop (see ClrMd.UnstoppedWalks) and found not to have run since, summed over snapshots.</summary>
    public long WalkedUnstopped { get; private set; }

    public void CountWalkedUnstopped(int threads) => WalkedUnstopped += threads;

    /// <summary>Threads walked by the DAC (the others were walked fast, or reused), summed over snapshots.</summary>
    public long DacWalks { get; private set; }

    public void CountDacWalks(int threads) => DacWalks += threads;

    /// <summary>process_vm_readv calls, summed over snapshots: each is a page the walk found cold.</summary>
    public long MemoryReads { get; set; }

    public void Start() => _last = Stopwatch.GetTimestamp();

    /// <summary>Forgets everything counted so far (a warm-up snapshot that is not part of the capture).</summary>
    public void Reset()
    {
        Array.Clear(_ticks);
        Snapshots = 0;
        ThreadsStopped = 0;
        RunningReused = 0;
        RunningUnstopped = 0;
        MovedSinceSurvey = 0;
        WalkedUnstopped = 0;
        DacWalks = 0;
        MemoryReads = 0;
    }

    /// <summary>Closes the phase that began at the previous mark.</summary>
    public void Mark(Phase phase)
    {
        var now = Stopwatch.GetTimestamp();
        _ticks[(int)phase] += now - _last;
        _last = now;
    }

    public void EndSnapshot() => Snapshots++;

    /// <summary>Mean milliseconds per snapshot for each phase.</summary>
    public IEnumerable<(string Phase, double Ms)> Means() =>
        Names.Select((name, i) => (name, Snapshots == 0 ? 0 : _ticks[i] * 1000.0 / Stopwatch.Frequency / Snapshots));
}
