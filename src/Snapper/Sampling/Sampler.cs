using System.Threading.Channels;
using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>
/// The sampling loop: waits for each scheduled moment, captures, and hands the snapshot on through a channel so
/// that storing never delays the next stop. Runs on the calling thread, which must be the thread that opened the
/// source. Time is cut into intervals, and each snapshot is taken at a random moment within its own (see
/// <see cref="SamplingPlan.Jitter"/>). A snapshot that starts more than half an interval after its scheduled moment
/// is taken and counted late, never skipped; the intervals it delayed follow at once, up to <see cref="MaxCatchUp"/>
/// of them, so that a stop that had to wait costs no samples; further behind, the schedule goes on from there. With an overhead budget (<see cref="Governor"/>), a snapshot is taken in one of every
/// <see cref="OverheadGovernor.Weight"/> intervals, at a random moment in that longer interval, and stands for all of them.
/// </summary>
public sealed class Sampler(IStackSource source, SamplingPlan plan, TimeProvider time, Random random)
{
    /// <summary>
    /// Failed snapshots in a row that end the capture (<see cref="SessionEndReason.Failed"/>). A failure is routine now
    /// and then (the target moved under a read); one that repeats this often will not go away, and a capture whose
    /// snapshots all fail would otherwise never reach its count.
    /// </summary>
    public const int MaxFailuresInARow = 100;

    /// <summary>How many intervals a late snapshot may leave behind to be sampled at once after it.</summary>
    public const int MaxCatchUp = 2;

    static readonly bool Debug = DebugSwitch.Enabled;

    /// <summary>Called after each snapshot, on the sampling thread: for progress display. Must be cheap.</summary>
    public Action<int, TimeSpan>? Progress { get; init; }

    /// <summary>
    /// Called once with the reason of the capture's first failed snapshot, so that users are told even with --quiet: at
    /// the next snapshot, or at the end, unless the target turns out to have exited (a snapshot of a dying target fails
    /// first, and the exit says it all).
    /// </summary>
    public Action<string>? FirstFailure { get; init; }

    /// <summary>Measures the capture's overhead and keeps it within its budget, if any (<c>sample --max-overhead</c>).</summary>
    public OverheadGovernor? Governor { get; init; }

    /// <summary>Gives unused memory back between snapshots, when due (see <see cref="FootprintKeeper"/>).</summary>
    public FootprintKeeper? Footprint { get; init; }

    /// <summary>The sampling thread's CPU time so far. Replaced in tests.</summary>
    public Func<TimeSpan> ThreadCpu { get; init; } = Linux.Native.ThreadCpuTime;

    /// <summary>Sleeps for the given time; returns true when cancelled first. Replaced in tests to drive a fake clock.</summary>
    public Func<TimeSpan, CancellationToken, bool> Wait { get; init; } = WaitOnToken;

    public SamplerResult Run(ChannelWriter<TimedSnapshot> output, CancellationToken cancel)
    {
        var start = time.GetTimestamp();
        var intervalTicks = plan.Interval.TotalSeconds * time.TimestampFrequency;
        var slot = start; // where the interval of the next snapshot begins
        var due = start;
        var slotWeight = 1; // how many intervals the next snapshot's is
        RateChange? change = null; // decided after the last snapshot, to be stored with the next
        int taken = 0, late = 0, failed = 0, failedInARow = 0;
        var bugs = new InternalErrorTally();
        string? firstFailure = null, untold = null;
        var reason = SessionEndReason.Interrupted;
        string? message = null;
        try
        {
            while (true)
            {
                if (plan.Count is { } count && taken >= count) { reason = SessionEndReason.CountReached; break; }
                var now = time.GetTimestamp();
                if (plan.Duration is { } duration && time.GetElapsedTime(start, now) >= duration) { reason = SessionEndReason.DurationReached; break; }
                if (cancel.IsCancellationRequested) break;
                if (now < due)
                {
                    if (due - now <= CancelCheckEveryUs * time.TimestampFrequency / 1_000_000) source.CaptureDueSoon();
                    var wait = TimeSpan.FromTicks(Math.Max(1, (due - now) * TimeSpan.TicksPerSecond / time.TimestampFrequency));
                    if (Footprint?.CollectIfDue(wait) == true) continue; // the time left has changed
                    // A thread the last snapshot could not stop in time is let go as soon as it stops, not at the next snapshot.
                    if (source.LetGoLateStops() is { } pollAgain && pollAgain < wait) wait = pollAgain;
                    if (Wait(wait, cancel)) break;
                    continue; // re-check the limits: the duration may have run out while waiting
                }

                var began = now;
                var weight = slotWeight;
                var slotTicks = intervalTicks * weight;
                var isLate = began - due > Math.Max(0.5 * slotTicks, 0.001 * time.TimestampFrequency);
                // The intervals a late snapshot delayed are sampled right after it, up to MaxCatchUp of them; further
                // behind, the schedule goes on from here (the next moment an interval away on average). Going on from
                // here after every late one lost an interval each time a stop waited for a thread whose CPU the host
                // had taken away (4-35 ms, 5% of snapshots on ShopService under wrk): 92 snapshots a second at 100 Hz.
                if (began - slot > (MaxCatchUp + 1) * slotTicks) slot = began - (long)(MaxCatchUp * slotTicks + slotTicks * plan.Jitter / 2);
                slot += (long)slotTicks;
                slotWeight = Governor?.Weight ?? 1;
                // Whole timestamp ticks: a fractional due time could leave a wait that rounds to nothing, forever.
                due = slot + (long)Math.Ceiling(intervalTicks * slotWeight * plan.Jitter * random.NextDouble());
                CapturedSnapshot snapshot;
                var cpuBefore = Governor is null ? TimeSpan.Zero : ThreadCpu();
                try
                {
                    snapshot = source.Capture();
                }
                catch (TargetExitedException e)
                {
                    untold = null;
                    reason = SessionEndReason.TargetExited;
                    message = e.Message;
                    break;
                }
                catch (Exception e) when (e is not TargetRefusedException and not OutOfMemoryException)
                {
                    // A failure the target caused is counted as failed; a bug of Snapper's own is counted apart, per
                    // reason, so that it is seen (and reported) rather than taken for the target's doing.
                    change = Decide(start, TimeSpan.Zero, ThreadCpu() - cpuBefore) ?? change; // a failed snapshot cost Snapper's CPU too
                    var isBug = SnapperBugs.IsBug(e);
                    var why = isBug ? $"Snapper error, please report it: {bugs.Add(e)}" : e.Message;
                    if (!isBug) failed++;
                    failedInARow++;
                    if (Debug) Console.Error.WriteLine($"snapshot failed: {e.InnerException ?? e}");
                    Tell(ref untold); // the first failure, now that the target is known to be still there
                    if (firstFailure is null) firstFailure = untold = why;
                    if (failedInARow < MaxFailuresInARow) continue;
                    reason = SessionEndReason.Failed;
                    message = $"{MaxFailuresInARow} snapshots in a row failed (the last: {why}; the first: {firstFailure})";
                    break;
                }
                Tell(ref untold);
                failedInARow = 0;
                if (isLate) late++;
                var offsetUs = time.GetElapsedTime(start, began).Ticks / 10;
                change = Decide(start, snapshot.Pause, ThreadCpu() - cpuBefore) ?? change;
                try
                {
                    // Blocks only if the writer falls far behind; the target is running by now. A snapshot taken
                    // while Ctrl+C arrived is still kept: only a closed channel (the store failed) drops it.
                    output.WriteAsync(new TimedSnapshot(taken, offsetUs, isLate, snapshot, weight, change)).AsTask().GetAwaiter().GetResult();
                    change = null;
                }
                catch (ChannelClosedException)
                {
                    break;
                }
                taken++;
                Progress?.Invoke(taken, time.GetElapsedTime(start));
            }
        }
        finally
        {
            output.TryComplete();
        }
        Tell(ref untold);
        return new SamplerResult(reason, message, taken, late, failed, bugs.ToList(), Governor?.Shares(time.GetTimestamp()));
    }

    /// <summary>The governor's decision after a snapshot, as the store records it.</summary>
    RateChange? Decide(long start, TimeSpan pause, TimeSpan snapshotCpu) =>
        Governor?.Observe(time.GetTimestamp(), pause, snapshotCpu) is { } decided
            ? new RateChange(time.GetElapsedTime(start).Ticks / 10, decided.Weight, decided.PauseShare, decided.CpuShare)
            : null;

    void Tell(ref string? untold)
    {
        if (untold is not null) FirstFailure?.Invoke(untold);
        untold = null;
    }

    /// <summary>
    /// Sleeps (at most <see cref="CancelCheckEveryUs"/> µs at a time: the loop calls again until the moment is due),
    /// then says whether the token was cancelled. A plain nanosleep: waiting on the token's handle, or Thread.Sleep,
    /// goes through the runtime's wait machinery, two futex calls and more code every sample.
    /// </summary>
    static bool WaitOnToken(TimeSpan delay, CancellationToken cancel)
    {
        if (!cancel.IsCancellationRequested) Linux.Native.USleep((uint)Math.Clamp(Math.Ceiling(delay.TotalMicroseconds), 1, CancelCheckEveryUs));
        return cancel.IsCancellationRequested;
    }

    /// <summary>How soon Ctrl+C (a cancelled token) ends a long wait between samples.</summary>
    const int CancelCheckEveryUs = 50_000;
}
