using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>
/// Keeps a capture's overhead within its budget (<c>sample --max-overhead</c>) by taking one snapshot in
/// <see cref="Weight"/> requested intervals, and measures the overhead either way. Overhead is the larger of two shares
/// of wall time: the time any thread of the target was held stopped (the snapshots' pauses), and Snapper's own CPU time
/// (the whole process: sampling, storing, the runtime's compiling of Snapper's code) as a share of one core (see
/// <see cref="OverheadRecord"/>).
/// <para>
/// Each window (<see cref="Window"/>, and at least one snapshot: at a low rate one snapshot is a window) splits Snapper's
/// CPU in two: what the snapshots cost (the sampling thread's CPU while taking them), which falls with the rate, and
/// the rest (storing, the runtime's own threads), which mostly does not; pauses are all the snapshots'. Over the
/// budget, the weight rises to the one whose projected overhead (the fixed part, plus the snapshots' shares scaled to
/// the new weight) fits under <see cref="AimBelow"/> of it. Under <see cref="FallBelow"/> of it, the weight falls the
/// same way, counting that a snapshot costs less at a higher rate (<see cref="CostGrowth"/>). In between it stays, so
/// the rate does not swing with each window's noise; and it moves by <see cref="StepAtMost"/> at most a window, unless
/// <see cref="FarOver"/> budgets were spent. When the fixed part alone takes more than the aim, the snapshots get
/// <see cref="ShareWhenFixedCostsExceed"/> of it (the session then shows the budget exceeded, and not by its sampling).
/// The first snapshot (attaching) is left out: a start-up cost, not the rate's. The snapshots just after it are the
/// dearest of a capture (each method is named when first seen, while the target is stopped: on ShopService under load,
/// 0.38 s of pause and 0.31 s of CPU in the first second at 100 Hz), so the first window is short
/// (<see cref="FirstWindow"/>): with a 1% budget, a whole first second at the requested rate cost a 30-second capture
/// 1.3 points on its own. The weight stays between 1 and one snapshot every <see cref="LongestInterval"/>.
/// </para>
/// </summary>
public sealed class OverheadGovernor
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(1), FirstWindow = TimeSpan.FromMilliseconds(100);
    public const double AimBelow = 0.85, FallBelow = 0.6, ShareWhenFixedCostsExceed = 0.25;

    /// <summary>
    /// How a snapshot's cost grows with the time since the previous one: as its square root (the exponent). More of the
    /// target's threads have moved and must be walked again, but not in proportion: on ShopService under load a snapshot
    /// cost 1.3 ms of CPU at 100 Hz, 1.3-7.6 ms at 9 Hz and 40 ms at 0.2 Hz. Taken as constant (0), a rate lowered for
    /// the dear first snapshots never came back: each snapshot at the lower rate cost more, and projected at the higher
    /// rate, seemed to cost too much there too.
    /// </summary>
    public const double CostGrowth = 0.5;

    /// <summary>How far the weight moves in one window, either way: a window's cost is noisy (a snapshot's pause ranges
    /// from 0.1 to 50 ms on a loaded service), and the first ones are the dearest of a capture.</summary>
    public const int StepAtMost = 4;

    /// <summary>Over this many budgets, the weight rises as far as the window asks, not by <see cref="StepAtMost"/>.</summary>
    public const double FarOver = 2;
    public static readonly TimeSpan LongestInterval = TimeSpan.FromSeconds(10);

    readonly double? _budget;
    readonly TimeSpan _interval;
    readonly Func<TimeSpan> _processCpu;
    readonly long _frequency;
    readonly int _maxWeight;
    Totals _window, _capture;
    bool _firstWindow = true;

    /// <summary>What was spent since a moment: wall time starts at <see cref="Start"/> (timestamp ticks).</summary>
    struct Totals
    {
        public long Start;
        public TimeSpan ProcessCpuAtStart, Pauses, SnapshotCpu;
        public int Snapshots;
    }

    /// <param name="budget">The largest overhead allowed, as a fraction (0.02 for 2%); null: measure only.</param>
    /// <param name="interval">The requested interval between snapshots.</param>
    /// <param name="processCpu">Snapper's CPU time so far (all its threads).</param>
    /// <param name="timestampFrequency">Ticks a second of the timestamps given to <see cref="Observe"/>.</param>
    public OverheadGovernor(double? budget, TimeSpan interval, Func<TimeSpan> processCpu, long timestampFrequency)
    {
        if (budget is { } b && !(b > 0 && b <= 1)) throw new ArgumentOutOfRangeException(nameof(budget), "a budget is a share between 0 and 1");
        _budget = budget;
        _interval = interval;
        _processCpu = processCpu;
        _frequency = timestampFrequency;
        _maxWeight = Math.Max(1, (int)(LongestInterval.Ticks / Math.Max(1, interval.Ticks)));
        _capture.Start = -1;
    }

    /// <summary>How many requested intervals the next snapshot stands for: one is taken in that many.</summary>
    public int Weight { get; private set; } = 1;

    /// <summary>
    /// After each snapshot (a failed one too: it cost Snapper's CPU): its pause, and the CPU the sampling thread spent
    /// taking it, at <paramref name="now"/>. Returns the change of weight decided, if any, with the shares of the window
    /// it was decided on.
    /// </summary>
    public (int Weight, double PauseShare, double CpuShare)? Observe(long now, TimeSpan pause, TimeSpan snapshotCpu)
    {
        if (_capture.Start < 0)
        {
            // The end of the first snapshot starts the measuring: its own cost is attaching (see the class summary).
            _capture = _window = new Totals { Start = now, ProcessCpuAtStart = _processCpu() };
            return null;
        }
        Add(ref _window, pause, snapshotCpu);
        Add(ref _capture, pause, snapshotCpu);
        var elapsed = Seconds(now - _window.Start);
        if (elapsed < (_firstWindow ? FirstWindow : Window).TotalSeconds || _window.Snapshots == 0) return null;
        _firstWindow = false;
        var cpu = _processCpu();
        var window = _window;
        _window = new Totals { Start = now, ProcessCpuAtStart = cpu };
        var pauseShare = window.Pauses.TotalSeconds / elapsed;
        var cpuShare = (cpu - window.ProcessCpuAtStart).TotalSeconds / elapsed;
        if (_budget is not { } budget) return null;
        var weight = Choose(budget, elapsed, window, pauseShare, cpuShare);
        if (weight == Weight) return null;
        Weight = weight;
        return (weight, pauseShare, cpuShare);
    }

    int Choose(double budget, double elapsed, Totals window, double pauseShare, double cpuShare)
    {
        var snapshotCpuShare = window.SnapshotCpu.TotalSeconds / elapsed;
        var fixedShare = Math.Max(0, cpuShare - snapshotCpuShare);
        var measured = Math.Max(pauseShare, cpuShare);
        // The weight at which the snapshots' shares, scaled by how each snapshot's cost grows with the interval, fit
        // under `limit` (the fixed part of the CPU left to it).
        int Fitting(double limit, double growth)
        {
            var forCpu = limit > fixedShare ? limit - fixedShare : ShareWhenFixedCostsExceed * limit;
            var needed = Weight * Math.Max(Math.Pow(pauseShare / limit, 1 / (1 - growth)), Math.Pow(snapshotCpuShare / forCpu, 1 / (1 - growth)));
            return (int)Math.Clamp(Math.Ceiling(needed), 1, _maxWeight);
        }
        // Up, the cost a snapshot saves at the lower rate is left out (the next window sees it and eases off); down,
        // it is counted, or a rate lowered once would never come back.
        // Far over the budget (the first snapshots of a capture), it rises at once: each window there spends a budget's worth.
        if (measured > budget)
            return Math.Clamp(Fitting(AimBelow * budget, 0), Weight, measured > FarOver * budget ? _maxWeight : Math.Min(_maxWeight, StepAtMost * Weight));
        if (measured < FallBelow * budget) return Math.Clamp(Fitting(AimBelow * budget, CostGrowth), (Weight + StepAtMost - 1) / StepAtMost, Weight);
        return Weight;
    }

    static void Add(ref Totals totals, TimeSpan pause, TimeSpan snapshotCpu)
    {
        totals.Pauses += pause;
        totals.SnapshotCpu += snapshotCpu;
        totals.Snapshots++;
    }

    /// <summary>The shares over the whole capture so far (from the end of its first snapshot); null before then.</summary>
    public (double Pause, double Cpu)? Shares(long now)
    {
        if (_capture.Start < 0) return null;
        var elapsed = Seconds(now - _capture.Start);
        if (elapsed <= 0) return null;
        return (_capture.Pauses.TotalSeconds / elapsed, (_processCpu() - _capture.ProcessCpuAtStart).TotalSeconds / elapsed);
    }

    double Seconds(long ticks) => (double)ticks / _frequency;
}
