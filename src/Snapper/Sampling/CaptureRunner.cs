using System.Threading.Channels;
using Snapper.Sampling.ClrMd;
using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>What to capture and where to store it.</summary>
/// <param name="Threads">When set, only threads whose names match are stored.</param>
/// <param name="Focus">When set, only samples whose stack has a matching frame are stored (see <see cref="FocusPattern"/>).</param>
/// <param name="FocusCount">With <paramref name="Focus"/>: stop once this many matching samples are stored.</param>
/// <param name="NativeFrames">Unwind the native frames above the managed ones (ptrace engine only; costs time per sample).</param>
/// <param name="LockHolders">Name the lock each waiting thread is entering and its holder (ptrace engines); null: unless
/// SNAPPER_LOCK_HOLDERS=off (see <see cref="Snapper.Sampling.ClrMd.LockHolders.Enabled"/>).</param>
public sealed record CaptureOptions(TargetProcess Target, SamplingPlan Plan, Engine Engine, int MaxFrames, string SnapperCommandLine,
    ThreadSelection? Threads = null, FocusPattern? Focus = null, long? FocusCount = null, bool NativeFrames = false, double? MaxOverhead = null,
    bool? LockHolders = null);

/// <summary>
/// The ways to read the target: Snapper's own ptrace session with its fast walk (the DAC walks only what it cannot
/// prove); the same session with every thread walked by the DAC (the previous engine, a reference); or ClrMD's attach
/// for every sample (slow; the first reference).
/// </summary>
public enum Engine
{
    Ptrace,
    Attach,
    Dac,
}

public sealed record CaptureResult(long SessionId, SamplerResult Sampler, PhaseTimings Timings);

/// <summary>
/// Runs one capture: the source is opened and driven on a dedicated OS thread (every ptrace call of a session must
/// come from one thread), while a second thread stores what it captures. Whatever happens, the source is disposed
/// on its own thread, which resumes the target, and the session record says how the capture ended.
/// </summary>
public static class CaptureRunner
{
    public static CaptureResult Run(SnapperDatabase db, CaptureOptions options, CancellationToken cancel, Action<int, TimeSpan>? progress = null)
    {
        using var targetLock = TargetLock.Acquire(options.Target);
        options.Target.EnsureNotTraced();
        var channel = Channel.CreateBounded<TimedSnapshot>(new BoundedChannelOptions(1024)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var samplingEnded = new CancellationTokenSource();
        SessionWriter? writer = null;
        Task? storing = null;
        SamplerResult? result = null;
        PhaseTimings? timings = null;
        Exception? failure = null;
        var focusDone = false;

        var thread = new Thread(() =>
        {
            try
            {
                using var source = Open(options);
                writer = SessionWriter.Begin(db, SessionTarget(options, source.RuntimeVersion) with { KnowsRunState = source.KnowsRunState }, DateTime.UtcNow);
                var snapshots = new SnapshotWriter(writer, SyscallNames.CurrentArchitecture, options.Threads, options.Focus?.Clone(), options.FocusCount)
                {
                    FocusCountReached = () => { focusDone = true; stop.Cancel(); },
                };
                if (options.Focus is { } focus) writer.RecordFocus(new FocusCounts(focus.Pattern, 0, 0)); // a focused capture says so from its start
                writer.RecordBudget(options.MaxOverhead);
                storing = Task.Factory.StartNew(() => snapshots.Run(channel.Reader, samplingEnded.Token), CancellationToken.None,
                    TaskCreationOptions.LongRunning, TaskScheduler.Default); // a thread of its own: Run blocks
                // A store that fails (disk full, say) must stop the sampling too, or the channel would fill up.
                storing.ContinueWith(_ => { channel.Writer.TryComplete(); stop.Cancel(); }, TaskContinuationOptions.OnlyOnFaulted);
                var sampler = new Sampler(source, options.Plan, TimeProvider.System, Random.Shared)
                {
                    Progress = progress,
                    Governor = new OverheadGovernor(options.MaxOverhead, options.Plan.Interval, () => Environment.CpuUsage.TotalTime,
                        TimeProvider.System.TimestampFrequency),
                    Footprint = new FootprintKeeper(TimeProvider.System),
                    // Said even with --quiet: a capture whose snapshots fail is one the user must hear about.
                    FirstFailure = why => Console.Error.WriteLine($"warning: a snapshot of process {options.Target.Pid} failed ({why}); " +
                        $"failed snapshots are counted and sampling goes on, {Sampler.MaxFailuresInARow} in a row end the capture"),
                };
                result = sampler.Run(channel.Writer, stop.Token);
                timings = source.Timings;
            }
            catch (Exception e)
            {
                failure = e;
                channel.Writer.TryComplete();
            }
            finally
            {
                samplingEnded.Cancel();
            }
        }) { Name = "snapper-sampler", IsBackground = true };
        thread.Start();
        thread.Join();

        if (writer is null)
            throw failure ?? new InvalidOperationException("the capture ended before it started");
        using (writer)
        {
            Exception? storeFailure = null;
            try
            {
                storing!.GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                storeFailure = e;
            }
            var (reason, message) = (failure, storeFailure) switch
            {
                ({ } f, _) => (SessionEndReason.Failed, f.Message),
                (_, { } s) => (SessionEndReason.Failed, s.Message),
                _ when focusDone => (SessionEndReason.FocusCountReached, null),
                _ => (result!.Reason, result.Message),
            };
            try
            {
                writer.End(reason, message, DateTime.UtcNow, result?.Failed ?? 0, result?.InternalErrors, result?.Overhead);
            }
            catch (StoreException) when (storeFailure is not null)
            {
                // The store is what failed: report that failure below rather than this one.
            }
            if (storeFailure is not null) throw storeFailure;
            if (failure is not null) throw failure;
            return new CaptureResult(writer.SessionId, result!, timings!);
        }
    }

    /// <summary>Stores one snapshot taken outside a sampling loop (<c>snapper dump --db</c>) as a session of its own.</summary>
    public static long StoreOne(SnapperDatabase db, CaptureOptions options, string runtimeVersion, bool knowsRunState, CapturedSnapshot snapshot, DateTime startedUtc)
    {
        using var writer = SessionWriter.Begin(db, SessionTarget(options, runtimeVersion) with { KnowsRunState = knowsRunState }, startedUtc);
        var channel = Channel.CreateUnbounded<TimedSnapshot>();
        channel.Writer.TryWrite(new TimedSnapshot(0, 0, false, snapshot));
        channel.Writer.Complete();
        new SnapshotWriter(writer, SyscallNames.CurrentArchitecture, options.Threads).Run(channel.Reader);
        writer.End(SessionEndReason.CountReached, null, DateTime.UtcNow, 0);
        return writer.SessionId;
    }

    static IStackSource Open(CaptureOptions options) => options.Engine switch
    {
        Engine.Attach => AttachStackSource.Open(options.Target, options.MaxFrames),
        Engine.Dac => PtraceStackSource.Open(options.Target, options.MaxFrames, options.NativeFrames, fastWalk: false, LockHoldersOf(options)),
        _ => PtraceStackSource.Open(options.Target, options.MaxFrames, options.NativeFrames, lockHolders: LockHoldersOf(options)),
    };

    static bool LockHoldersOf(CaptureOptions options) => options.LockHolders ?? Snapper.Sampling.ClrMd.LockHolders.Enabled;

    static SessionTarget SessionTarget(CaptureOptions options, string runtimeVersion) => new(
        options.Target.Pid,
        options.Target.Name,
        options.Target.CommandLine,
        runtimeVersion,
        Environment.MachineName,
        options.Engine.ToString().ToLowerInvariant(),
        options.Plan.RequestedRate,
        options.MaxFrames,
        options.SnapperCommandLine,
        SyscallNames.CurrentArchitecture);
}
