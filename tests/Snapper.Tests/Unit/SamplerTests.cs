using System.Threading.Channels;
using Snapper.Sampling;
using Snapper.Store;

namespace Snapper.Tests.Unit;

/// <summary>The sampling loop, driven by a scripted source and a clock that only moves when the loop waits or a capture "takes" time.</summary>
public sealed class SamplerTests
{
    sealed class ManualClock : TimeProvider
    {
        public long Now;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Now;

        /// <summary>Stands in for the loop's sleep: time passes only when it waits.</summary>
        public bool Wait(TimeSpan delay, CancellationToken cancel)
        {
            Now += delay.Ticks;
            return cancel.IsCancellationRequested;
        }
    }

    sealed class ScriptedSource(ManualClock clock, Func<int, TimeSpan> captureCost, Func<int, Exception?>? failure = null) : IStackSource
    {
        public int Calls;
        public string RuntimeVersion => "test";
        public PhaseTimings Timings { get; } = new();

        public CapturedSnapshot Capture()
        {
            var call = Calls++;
            clock.Now += captureCost(call).Ticks;
            if (failure?.Invoke(call) is { } e) throw e;
            return new CapturedSnapshot(clock.Now, TimeSpan.FromMilliseconds(1), []);
        }

        public void Dispose() { }
    }

    static (SamplerResult Result, List<TimedSnapshot> Snapshots) Run(IStackSource source, ManualClock clock, SamplingPlan plan, CancellationToken cancel = default)
    {
        var channel = Channel.CreateUnbounded<TimedSnapshot>();
        var result = new Sampler(source, plan, clock, new Random(1)) { Wait = clock.Wait }.Run(channel.Writer, cancel);
        var snapshots = new List<TimedSnapshot>();
        while (channel.Reader.TryRead(out var item)) snapshots.Add(item);
        return (result, snapshots);
    }

    [Fact]
    public void Takes_the_requested_count_at_the_requested_rate_with_jitter()
    {
        var clock = new ManualClock();
        var source = new ScriptedSource(clock, _ => TimeSpan.FromMilliseconds(1));
        var (result, snapshots) = Run(source, clock, new SamplingPlan(TimeSpan.FromMilliseconds(10), 200, null));

        Assert.Equal(SessionEndReason.CountReached, result.Reason);
        Assert.Equal(200, snapshots.Count);
        Assert.Equal(Enumerable.Range(0, 200), snapshots.Select(s => s.Sequence));
        Assert.Equal(0, result.Late);
        var gaps = snapshots.Zip(snapshots.Skip(1), (a, b) => b.OffsetUs - a.OffsetUs).ToList();
        Assert.InRange(gaps.Average(), 9_500, 10_500);          // the rate holds on average
        Assert.True(gaps.Distinct().Count() > 20, "no jitter"); // but not in lock-step
        // Each snapshot at a random moment of its own 10 ms interval: spread over all of it, never outside it.
        Assert.All(snapshots, s => Assert.InRange(s.OffsetUs - 10_000 * s.Sequence, 0, 10_000));
        var phases = snapshots.Select(s => (s.OffsetUs - 10_000 * s.Sequence) / 2_500).ToList();
        Assert.All(Enumerable.Range(0, 4), quarter => Assert.True(phases.Count(p => p == quarter) >= 25, $"quarter {quarter} of the interval: {phases.Count(p => p == quarter)} of 200"));
    }

    [Fact]
    public void A_budget_lowers_the_rate_and_each_snapshot_stands_for_the_intervals_it_covers()
    {
        var clock = new ManualClock();
        var cpu = TimeSpan.Zero; // Snapper's CPU: the captures' only
        var source = new ScriptedSource(clock, _ =>
        {
            cpu += TimeSpan.FromMilliseconds(2);
            return TimeSpan.FromMilliseconds(2); // 20% of a core at 100 Hz
        });
        var plan = new SamplingPlan(TimeSpan.FromMilliseconds(10), null, TimeSpan.FromSeconds(30));
        var channel = Channel.CreateUnbounded<TimedSnapshot>();
        var sampler = new Sampler(source, plan, clock, new Random(1))
        {
            Wait = clock.Wait,
            ThreadCpu = () => cpu,
            Governor = new OverheadGovernor(0.05, plan.Interval, () => cpu, clock.TimestampFrequency),
        };
        var result = sampler.Run(channel.Writer, CancellationToken.None);
        var snapshots = new List<TimedSnapshot>();
        while (channel.Reader.TryRead(out var item)) snapshots.Add(item);

        Assert.InRange(result.Overhead!.Value.Cpu, 0.02, 0.05);
        Assert.All(snapshots.Where(s => s.OffsetUs > 2_000_000), s => Assert.True(s.Weight >= 4, $"weight {s.Weight} at {s.OffsetUs} us"));
        // The weights add up to the intervals the capture covered: shares counted with them are shares of time.
        var intervals = snapshots.Sum(s => s.Weight);
        Assert.InRange(intervals, 2_850, 3_050);
        // A change is handed on with the snapshot after it was decided, and the weights follow it.
        var changes = snapshots.Where(s => s.RateChange is not null).ToList();
        Assert.NotEmpty(changes);
        Assert.All(changes, c => Assert.True(c.RateChange!.Weight > 1 && c.RateChange.CpuShare > 0));
    }

    [Fact]
    public void Slow_captures_are_taken_late_and_counted_and_the_intervals_they_delayed_follow_at_once()
    {
        var clock = new ManualClock();
        // Every third capture takes 25 ms at a 10 ms interval: it delays the next two.
        var source = new ScriptedSource(clock, call => TimeSpan.FromMilliseconds(call % 3 == 0 ? 25 : 1));
        var (result, snapshots) = Run(source, clock, new SamplingPlan(TimeSpan.FromMilliseconds(10), 30, null, Jitter: 0));

        Assert.Equal(30, snapshots.Count);
        Assert.True(result.Late >= 10, $"{result.Late} late");
        Assert.Equal(result.Late, snapshots.Count(s => s.Late));
        Assert.All(snapshots.Where(s => s.Late), s => Assert.NotEqual(0, s.Sequence % 3)); // the delayed ones, not the slow ones
        // No interval lost: the 30th snapshot is taken in the 30th interval, as it would be were every capture quick.
        Assert.InRange(snapshots[^1].OffsetUs, 290_000, 300_000);
    }

    [Fact]
    public void Far_behind_the_schedule_catches_up_two_intervals_and_goes_on_from_there()
    {
        var clock = new ManualClock();
        // The sixth capture takes 100 ms at a 10 ms interval: nine intervals go by.
        var source = new ScriptedSource(clock, call => TimeSpan.FromMilliseconds(call == 5 ? 100 : 1));
        var (_, snapshots) = Run(source, clock, new SamplingPlan(TimeSpan.FromMilliseconds(10), 30, null, Jitter: 0));

        Assert.Equal(30, snapshots.Count);
        var slowEnds = snapshots[5].OffsetUs + 100_000;
        // Two delayed intervals caught up, then the one the slow capture ended in; the rest at the interval again.
        var atOnce = snapshots.Count(s => s.OffsetUs >= slowEnds && s.OffsetUs < slowEnds + 5_000);
        Assert.Equal(Sampler.MaxCatchUp + 1, atOnce);
        for (var i = 5 + atOnce + 2; i < snapshots.Count; i++)
            Assert.InRange(snapshots[i].OffsetUs - snapshots[i - 1].OffsetUs, 9_000, 11_000);
    }

    [Fact]
    public void Stops_at_the_duration()
    {
        var clock = new ManualClock();
        var source = new ScriptedSource(clock, _ => TimeSpan.FromMilliseconds(1));
        var (result, snapshots) = Run(source, clock, new SamplingPlan(TimeSpan.FromMilliseconds(100), null, TimeSpan.FromSeconds(2), Jitter: 0));

        Assert.Equal(SessionEndReason.DurationReached, result.Reason);
        Assert.InRange(snapshots.Count, 20, 21);
    }

    [Fact]
    public void Failed_snapshots_are_counted_and_the_capture_goes_on()
    {
        var clock = new ManualClock();
        var source = new ScriptedSource(clock, _ => TimeSpan.FromMilliseconds(1),
            call => call % 4 == 0 ? new SnapshotFailedException("torn read") : null);
        var (result, snapshots) = Run(source, clock, new SamplingPlan(TimeSpan.FromMilliseconds(10), 30, null));

        Assert.Equal(30, snapshots.Count);
        Assert.Equal(10, result.Failed);
        Assert.Equal(SessionEndReason.CountReached, result.Reason);
    }

    [Fact]
    public void A_capture_whose_snapshots_keep_failing_ends_and_says_why()
    {
        var clock = new ManualClock();
        // Five good snapshots, then failures for ever: a capture asked for 1,000 must not loop.
        var source = new ScriptedSource(clock, _ => TimeSpan.FromMilliseconds(1),
            call => call < 5 ? null : new SnapshotFailedException(call == 5 ? "first reason" : "later reason"));
        var told = new List<string>();
        var channel = Channel.CreateUnbounded<TimedSnapshot>();
        var result = new Sampler(source, new SamplingPlan(TimeSpan.FromMilliseconds(10), 1000, null), clock, new Random(1))
        {
            Wait = clock.Wait,
            FirstFailure = told.Add,
        }.Run(channel.Writer, CancellationToken.None);

        Assert.Equal(SessionEndReason.Failed, result.Reason);
        Assert.Equal((5, Sampler.MaxFailuresInARow), (result.Taken, result.Failed));
        Assert.Equal(5 + Sampler.MaxFailuresInARow, source.Calls);
        Assert.Equal(["first reason"], told);
        Assert.Contains("first reason", result.Message);
        Assert.Contains($"{Sampler.MaxFailuresInARow} snapshots in a row failed", result.Message);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    public void The_first_failure_is_told_once_unless_the_target_exits_right_after(bool exitsNext, int toldCount)
    {
        var clock = new ManualClock();
        var source = new ScriptedSource(clock, _ => TimeSpan.FromMilliseconds(1), call => call switch
        {
            1 or 3 => new SnapshotFailedException($"reason {call}"),
            2 when exitsNext => new TargetExitedException("gone"),
            _ => null,
        });
        var told = new List<string>();
        var channel = Channel.CreateUnbounded<TimedSnapshot>();
        new Sampler(source, new SamplingPlan(TimeSpan.FromMilliseconds(10), 5, null), clock, new Random(1)) { Wait = clock.Wait, FirstFailure = told.Add }
            .Run(channel.Writer, CancellationToken.None);

        // A dying target fails a snapshot before its exit is seen: the exit says it all.
        Assert.Equal(toldCount, told.Count);
        Assert.All(told, reason => Assert.Equal("reason 1", reason));
    }

    [Fact]
    public void Failures_that_are_not_in_a_row_do_not_end_the_capture()
    {
        var clock = new ManualClock();
        var source = new ScriptedSource(clock, _ => TimeSpan.FromMilliseconds(1),
            call => call % Sampler.MaxFailuresInARow != 0 ? new SnapshotFailedException("torn read") : null); // 99 in a row at most
        var (result, snapshots) = Run(source, clock, new SamplingPlan(TimeSpan.FromMilliseconds(10), 3, null));

        Assert.Equal(SessionEndReason.CountReached, result.Reason);
        Assert.Equal(3, snapshots.Count);
        Assert.Equal(2 * (Sampler.MaxFailuresInARow - 1), result.Failed);
    }

    [Fact]
    public void Snapper_bugs_are_counted_per_reason_apart_from_failed_snapshots()
    {
        var clock = new ManualClock();
        // A bug wrapped by the source, the same bug thrown bare, an invalid cast, and failures a live target causes.
        var source = new ScriptedSource(clock, _ => TimeSpan.FromMilliseconds(1), call => (call % 10) switch
        {
            1 => new SnapshotFailedException("walk failed", Thrown(() => throw new NullReferenceException("Object reference not set to an instance of an object.\n   second line"))),
            2 => Thrown(() => throw new NullReferenceException("Object reference not set to an instance of an object.\n   second line")),
            3 => new SnapshotFailedException("walk failed", new InvalidCastException("Unable to cast")),
            4 => new SnapshotFailedException("read failed", new IOException("process_vm_readv: no such process")),
            5 => new SnapshotFailedException("no thread could be stopped"),
            _ => null,
        });
        var (result, snapshots) = Run(source, clock, new SamplingPlan(TimeSpan.FromMilliseconds(10), 50, null));

        Assert.Equal(SessionEndReason.CountReached, result.Reason);
        Assert.Equal(50, snapshots.Count);
        Assert.Equal(2 * 10, result.Failed); // the I/O failure and Snapper's own judgement: 10 rounds of 10 calls
        // Wrapped or bare, a bug is named by its type, the method that threw it (two here) and its message's first line.
        var nullReferences = result.InternalErrors.Where(e => e.Reason.StartsWith("NullReferenceException in ", StringComparison.Ordinal)).ToList();
        Assert.Equal([10, 10], nullReferences.Select(e => e.Count));
        Assert.Contains(nullReferences, e => e.Reason.StartsWith("NullReferenceException in ScriptedSource.Capture: ", StringComparison.Ordinal));
        Assert.All(nullReferences, e => Assert.EndsWith(": Object reference not set to an instance of an object.", e.Reason));
        Assert.Equal(new InternalError("InvalidCastException: Unable to cast", 10), Assert.Single(result.InternalErrors, e => e.Reason.StartsWith("InvalidCast", StringComparison.Ordinal)));
        Assert.Equal(3, result.InternalErrors.Count);
    }

    [Fact]
    public void Distinct_bug_reasons_are_bounded_in_number_and_length()
    {
        var tally = new InternalErrorTally();
        for (var i = 0; i < 50; i++) tally.Add(new ArgumentException($"bad argument {i} " + new string('x', 500)));

        var errors = tally.ToList();
        Assert.Equal(InternalErrorTally.MaxReasons + 1, errors.Count);
        Assert.Equal(50 - InternalErrorTally.MaxReasons, Assert.Single(errors, e => e.Reason == InternalErrorTally.OtherReasons).Count);
        Assert.All(errors, e => Assert.True(e.Reason.Length <= SnapperBugs.MaxReasonLength, e.Reason));
        Assert.Equal(50, tally.Total);
    }

    /// <summary>An exception as thrown (with the method that threw it), not just constructed.</summary>
    static Exception Thrown(Action thrower)
    {
        try
        {
            thrower();
        }
        catch (Exception e)
        {
            return e;
        }
        throw new InvalidOperationException("nothing was thrown");
    }

    [Fact]
    public void Target_exit_ends_the_capture_with_what_was_taken()
    {
        var clock = new ManualClock();
        var source = new ScriptedSource(clock, _ => TimeSpan.FromMilliseconds(1),
            call => call == 7 ? new TargetExitedException("process 42 exited") : null);
        var (result, snapshots) = Run(source, clock, new SamplingPlan(TimeSpan.FromMilliseconds(10), 100, null));

        Assert.Equal(SessionEndReason.TargetExited, result.Reason);
        Assert.Equal("process 42 exited", result.Message);
        Assert.Equal(7, snapshots.Count);
    }

    [Fact]
    public void Cancellation_stops_between_samples()
    {
        var clock = new ManualClock();
        using var cancel = new CancellationTokenSource();
        var source = new ScriptedSource(clock, call =>
        {
            if (call == 4) cancel.Cancel();
            return TimeSpan.FromMilliseconds(1);
        });
        var (result, snapshots) = Run(source, clock, new SamplingPlan(TimeSpan.FromMilliseconds(10), 100, null), cancel.Token);

        Assert.Equal(SessionEndReason.Interrupted, result.Reason);
        Assert.Equal(5, snapshots.Count); // the capture in flight completes and is kept
    }
}
