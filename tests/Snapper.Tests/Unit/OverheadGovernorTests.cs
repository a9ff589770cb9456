using Snapper.Sampling;

namespace Snapper.Tests.Unit;

/// <summary>
/// The overhead budget's decisions, on made-up costs: a clock in TimeSpan ticks, snapshots of a given pause and CPU,
/// and Snapper's process CPU as the sum of the snapshots' plus a fixed share.
/// </summary>
public sealed class OverheadGovernorTests
{
    static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);

    sealed class Run
    {
        public long Now;
        TimeSpan _snapshotCpu;
        public OverheadGovernor Governor { get; }
        public List<int> Changes { get; } = [];

        public Run(double? budget, double fixedCpuShare = 0) =>
            Governor = new OverheadGovernor(budget, Interval, () => _snapshotCpu + TimeSpan.FromTicks((long)(Now * fixedCpuShare)), TimeSpan.TicksPerSecond);

        /// <summary>A snapshot that held the target <paramref name="pause"/> and cost <paramref name="cpu"/>, then the wait
        /// until the next (the governor's weight of intervals).</summary>
        public void Snapshot(TimeSpan pause, TimeSpan cpu)
        {
            Now += cpu.Ticks;
            _snapshotCpu += cpu;
            if (Governor.Observe(Now, pause, cpu) is { } change) Changes.Add(change.Weight);
            Now += Math.Max(0, Interval.Ticks * Governor.Weight - cpu.Ticks); // a late snapshot: the next is taken at once
        }

        public void For(TimeSpan span, TimeSpan pause, TimeSpan cpu)
        {
            var end = Now + span.Ticks;
            while (Now < end) Snapshot(pause, cpu);
        }
    }

    [Fact]
    public void Without_a_budget_the_rate_is_kept_and_the_overhead_measured()
    {
        var run = new Run(null);
        run.For(TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2));
        Assert.Equal(1, run.Governor.Weight);
        Assert.Empty(run.Changes);
        var shares = run.Governor.Shares(run.Now)!.Value;
        Assert.InRange(shares.Pause, 0.095, 0.105); // 1 ms held every 10 ms
        Assert.InRange(shares.Cpu, 0.19, 0.21);     // 2 ms of CPU every 10 ms
    }

    [Fact]
    public void Over_the_budget_the_rate_falls_until_the_overhead_fits()
    {
        // 2 ms of CPU a snapshot at 100 Hz is 20%; a 5% budget needs one snapshot in 4 intervals at least.
        var run = new Run(0.05);
        run.For(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(0.5), TimeSpan.FromMilliseconds(2));
        Assert.InRange(run.Governor.Weight, 4, 8);
        var settled = run.Now;
        var before = run.Governor.Shares(settled)!.Value;
        Assert.True(before.Cpu <= 0.05, $"{before.Cpu:P2} of CPU over the capture");
    }

    [Fact]
    public void The_first_snapshot_is_left_out_and_the_first_window_is_short()
    {
        var run = new Run(0.05);
        run.Snapshot(TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500)); // attaching: not the rate's cost
        Assert.Equal(1, run.Governor.Weight);
        // Dear snapshots just after it (first sights named while stopped): the rate falls within 0.1 s, not a second.
        for (var i = 0; i < 11; i++) run.Snapshot(TimeSpan.FromMilliseconds(3), TimeSpan.FromMilliseconds(5));
        Assert.True(run.Governor.Weight > 1, "still at the requested rate after 0.1 s at 50%");
    }

    [Fact]
    public void Under_the_budget_the_rate_comes_back_a_step_at_a_time()
    {
        var run = new Run(0.05);
        run.For(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(20)); // far over: lowered at once
        var lowered = run.Governor.Weight;
        Assert.True(lowered >= 16, $"weight {lowered}");
        run.Changes.Clear();
        run.For(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(0.05), TimeSpan.FromMilliseconds(0.1)); // then cheap
        Assert.Equal(1, run.Governor.Weight);
        // Each change at most a quarter of the weight before it.
        var previous = lowered;
        foreach (var weight in run.Changes)
        {
            Assert.True(weight * OverheadGovernor.StepAtMost >= previous, $"{previous} to {weight} in one window");
            previous = weight;
        }
    }

    [Fact]
    public void Fixed_costs_over_the_budget_leave_the_snapshots_a_part_of_it()
    {
        // Snapper's CPU outside snapshots alone is 3% of a core against a 2% budget: the snapshots get a quarter of the aim.
        var run = new Run(0.02, fixedCpuShare: 0.03);
        run.For(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(0.1), TimeSpan.FromMilliseconds(1));
        var snapshotShare = 0.001 / (Interval.TotalSeconds * run.Governor.Weight);
        Assert.True(snapshotShare <= OverheadGovernor.ShareWhenFixedCostsExceed * OverheadGovernor.AimBelow * 0.02 * 1.01,
            $"snapshots take {snapshotShare:P3} at weight {run.Governor.Weight}");
    }

    [Fact]
    public void The_rate_never_falls_below_one_snapshot_in_the_longest_interval()
    {
        var run = new Run(0.001);
        run.For(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(50));
        Assert.Equal((int)(OverheadGovernor.LongestInterval / Interval), run.Governor.Weight);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    public void A_budget_is_a_share_above_zero_and_at_most_all(double budget) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new OverheadGovernor(budget, Interval, () => TimeSpan.Zero, TimeSpan.TicksPerSecond));
}
