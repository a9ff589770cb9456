using System.Threading.Channels;
using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>
/// The sampling loop: waits for each scheduled moment, captures, and hands the snapshot on through a bounded
/// channel so that storing never delays the next stop. Runs on the calling thread, which must be the thread that
/// opened the source. A snapshot that starts late is taken and counted late, never skipped; the schedule then
/// restarts from now rather than bursting to catch up.
/// </summary>
public sealed class Sampler(IStackSource source, SamplingPlan plan, TimeProvider time, Random random)
{
    /// <summary>Called after each snapshot, on the sampling thread: for progress display. Must be cheap.</summary>
    public Action<int, TimeSpan>? Progress { get; init; }

    public SamplerResult Run(ChannelWriter<TimedSnapshot> output, CancellationToken cancel)
    {
        var start = time.GetTimestamp();
        var intervalTicks = plan.Interval.TotalSeconds * time.TimestampFrequency;
        var lateThreshold = Math.Max(0.5 * intervalTicks, 0.001 * time.TimestampFrequency);
        double due = start;
        int taken = 0, late = 0, failed = 0;
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
                if (now < due && Wait(TimeSpan.FromSeconds((due - now) / time.TimestampFrequency), cancel)) break;

                var began = time.GetTimestamp();
                var isLate = began - due > lateThreshold;
                CapturedSnapshot snapshot;
                try
                {
                    snapshot = source.Capture();
                }
                catch (SnapshotFailedException)
                {
                    failed++;
                    due = NextDue(due, intervalTicks, time.GetTimestamp());
                    continue;
                }
                catch (TargetExitedException e)
                {
                    reason = SessionEndReason.TargetExited;
                    message = e.Message;
                    break;
                }
                if (isLate) late++;
                var offsetUs = (long)(time.GetElapsedTime(start, began).Ticks / 10);
                // Blocks only if the writer falls far behind; the target is running by now.
                try
                {
                    output.WriteAsync(new TimedSnapshot(taken, offsetUs, isLate, snapshot), cancel).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                taken++;
                Progress?.Invoke(taken, time.GetElapsedTime(start));
                due = NextDue(due, intervalTicks, time.GetTimestamp());
            }
        }
        finally
        {
            output.TryComplete();
        }
        return new SamplerResult(reason, message, taken, late, failed);
    }

    double NextDue(double due, double intervalTicks, long now)
    {
        var next = due + intervalTicks * (1 + plan.Jitter * (2 * random.NextDouble() - 1));
        return next < now ? now : next;
    }

    /// <summary>Sleeps until the delay passes; true if cancelled first. Ctrl+C wakes it at once.</summary>
    bool Wait(TimeSpan delay, CancellationToken cancel)
    {
        if (time == TimeProvider.System)
            return cancel.WaitHandle.WaitOne(delay);
        // A fake clock in tests: let it advance by the delay.
        try
        {
            Task.Delay(delay, time, cancel).GetAwaiter().GetResult();
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }
}
