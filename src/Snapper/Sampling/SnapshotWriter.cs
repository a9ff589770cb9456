using System.Threading.Channels;
using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>
/// Drains snapshots from the sampling loop into the store on its own thread, deciding each sample's state on the
/// way (see <see cref="SampleStateRules"/>): that work happens here, off the sampling thread, while the target runs.
/// Commits what each drain wrote (see <see cref="DrainInterval"/>), so a crash loses at most a fraction of a second
/// of samples, and between drains no write transaction is open: other captures sharing the file take their turn
/// then. With a focus pattern (<c>sample --focus</c>) only the thread samples whose stack matches are stored, the
/// session records how many were seen and kept, and after <c>focusCount</c> kept samples the rest is dropped and
/// <see cref="FocusCountReached"/> fires.
/// </summary>
public sealed class SnapshotWriter(SessionWriter writer, string architecture, ThreadSelection? threads = null, FocusPattern? focus = null,
    long? focusCount = null)
{
    readonly Dictionary<(int Stack, SampleActivity Activity, int Syscall, string? Role, bool Runnable), SampleState> _states = new();
    long _seen, _kept;

    /// <summary>Called once, on the writer's thread, when <c>focusCount</c> focused samples are stored: the capture should stop.</summary>
    public Action? FocusCountReached { get; init; }

    /// <summary>Whether the focus count was reached; snapshots that arrive after it are dropped whole.</summary>
    public bool FocusDone => focusCount is { } limit && _kept >= limit;

    /// <summary>A backlog (the store was slow) is still committed in batches of at most this many snapshots.</summary>
    public int CommitEvery { get; init; } = 200;

    /// <summary>
    /// How long the writer lets snapshots gather between two drains. Waiting on an empty channel instead would have
    /// the sampler wake this thread for every snapshot: a thread-pool hand-off and a context switch per sample, taken
    /// out of the target's CPU on a small machine. The channel holds a thousand snapshots, far more than this gathers.
    /// Each drain ends with a commit: a transaction left open across the wait would hold the file's write lock nearly
    /// all the time, and another capture writing to the same file (started by the same cron minute, say) would wait
    /// in vain for a gap long enough for SQLite's busy handler to find. Half a second: a commit rewrites the pages it
    /// touched and a transaction has its fixed cost, so at 100 Hz draining every 100 ms cost this thread 0.055-0.08 ms
    /// of CPU a sample and every 500 ms 0.022-0.025 (measured side by side), for at most half a second of samples lost
    /// should Snapper be killed outright.
    /// </summary>
    public TimeSpan DrainInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Writes until the channel completes, committing at the end of every drain. Blocks: run it on a thread of its own.
    /// Between drains it sleeps on that thread, where an awaited delay cost the runtime's timer thread and a
    /// thread-pool hand-off at each drain.
    /// </summary>
    /// <param name="samplingEnded">Cancelled when the sampler stops: the last snapshots are then written at once,
    /// not after the rest of a drain interval.</param>
    public void Run(ChannelReader<TimedSnapshot> input, CancellationToken samplingEnded = default)
    {
        while (WaitToRead(input))
        {
            var sinceCommit = 0;
            while (input.TryRead(out var item))
            {
                Write(item);
                if (++sinceCommit < CommitEvery) continue;
                writer.Commit();
                sinceCommit = 0;
            }
            writer.Commit();
            if (!input.Completion.IsCompleted && !FocusDone && !samplingEnded.IsCancellationRequested)
                samplingEnded.WaitHandle.WaitOne(DrainInterval);
        }
    }

    /// <summary>True when a snapshot is there to read, after waiting for one if need be; false once the channel is done.</summary>
    static bool WaitToRead(ChannelReader<TimedSnapshot> input)
    {
        var ready = input.WaitToReadAsync();
        return ready.IsCompletedSuccessfully ? ready.Result : ready.AsTask().GetAwaiter().GetResult();
    }

    void Write(TimedSnapshot item)
    {
        if (FocusDone) return; // in flight when the count was reached: not part of the capture
        var pauseUs = item.Snapshot.Pause.Ticks / 10;
        writer.AddSnapshot(new Snapshot(item.Sequence, item.OffsetUs, pauseUs, item.Late, item.Weight));
        if (item.RateChange is { } change) writer.RecordRateChange(change);
        foreach (var thread in item.Snapshot.Threads)
        {
            var identity = thread.Identity;
            if (threads is not null && !threads.Matches(identity.Name, identity.OsName, identity.Role)) continue;
            if (focus is not null)
            {
                if (FocusDone) break;
                _seen++;
                if (!Focused(thread)) continue;
                _kept++;
            }
            var threadId = writer.InternThread(thread.OsThreadId, identity);
            var stackId = writer.InternStack(thread.Frames);
            var state = StateOf(thread, stackId);
            writer.AddSample(new Sample(item.Sequence, threadId, stackId, state, thread.Activity, thread.Syscall, thread.CpuNs));
            if (thread.WaitsFor is { } wait) WriteLockWait(item, threadId, wait);
        }
        if (focus is null) return;
        writer.RecordFocus(new FocusCounts(focus.Pattern, _seen, _kept));
        if (FocusDone) FocusCountReached?.Invoke();
    }

    /// <summary>
    /// The lock a sample waits for, and its holder as a thread of the session: the holder's own sample in this snapshot
    /// shows what it was doing. A holder that is no thread of the snapshot (it was not sampled) is left unnamed.
    /// </summary>
    void WriteLockWait(TimedSnapshot item, int threadId, LockWait wait)
    {
        var lockId = writer.InternLock(wait.Kind, wait.LockType, wait.LockAddress);
        int? owner = null;
        if (wait.OwnerOsThreadId is { } ownerTid)
            foreach (var thread in item.Snapshot.Threads)
                if (thread.OsThreadId == ownerTid)
                {
                    owner = writer.InternThread(ownerTid, thread.Identity);
                    break;
                }
        writer.AddLockWait(new LockWaitSample(item.Sequence, threadId, lockId, owner));
    }

    /// <summary>The answer is cached per frame inside the pattern: stacks repeat, and their frames are the same records.</summary>
    bool Focused(ThreadStack thread) => focus!.Matches(thread.Frames);

    /// <summary>The rules look at the whole stack, so their answer is kept per interned stack.</summary>
    SampleState StateOf(ThreadStack thread, int stackId)
    {
        var key = (stackId, thread.Activity, thread.Syscall, thread.Identity.Role, thread.Runnable);
        if (!_states.TryGetValue(key, out var state))
        {
            state = SampleStateRules.Classify(thread.Frames, thread.Activity, SyscallNames.Name(architecture, thread.Syscall), thread.Identity.Role,
                thread.Runnable);
            _states[key] = state;
        }
        return state;
    }
}
