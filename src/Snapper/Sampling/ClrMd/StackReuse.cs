using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Decides which threads need stopping. A thread that has not run since its last walk has the same stack, so it
/// need not be stopped or walked at all: cost then follows the running threads, not the thread count.
/// "Has not run" must survive Snapper's own stop and resume (which makes every stopped thread run briefly), so it
/// is judged from what the kernel keeps for a blocked thread: the stack pointer and pc of its syscall, which stay
/// put across a stop (a timed wait comes back as restart_syscall with the same ones), plus a hash of the stack
/// memory from that stack pointer up to the outermost frame walked, read without stopping the thread.
/// Once a stack has been confirmed that way, the thread's CPU run time is noted: while it stays the same the thread
/// has not run at all, and the stack is reused without reading anything else (Snapper never stops a reused
/// thread, so its own stops cannot move that number; a freshly walked thread's can, so it is confirmed first).
/// </summary>
sealed class StackReuse(StackMemoryHash stackHash)
{
    const int MaxHashedBytes = 256 * 1024;

    sealed record Remembered(ulong StackPointer, ulong ProgramCounter, int Extent, ulong Hash, ThreadStack Stack, int LinesGeneration)
    {
        /// <summary>The thread's CPU run time when this stack was last confirmed, or null when not yet.</summary>
        public ulong? ConfirmedAtRunTime { get; set; }
    }

    readonly Dictionary<int, Remembered> _threads = new();
    readonly Dictionary<int, ThreadActivity> _seenBeforeStop = new();
    readonly Dictionary<int, (int Extent, ulong Hash)> _hashedAtStop = new();

    /// <summary>The <see cref="FrameResolver.LinesGeneration"/> of this snapshot's walks: a stack remembered at another is walked again.</summary>
    public int LinesGeneration { get; set; }

    /// <summary>
    /// The remembered stack of a thread that has not run since its stack was last confirmed; else null. An unchanged run
    /// time alone does not prove it: the kernel adds a woken thread's time only at the next tick or when it sleeps
    /// again, so a thread that woke less than a tick ago, and runs or waits for a CPU now, still shows the old figure
    /// (a 3 ms burst every 50 ms was seen in a third of its samples that way). It must also be asleep now, in the very
    /// syscall it was remembered in (the same stack pointer and pc).
    /// </summary>
    public ThreadStack? TryReuseIdle(int tid, ulong? runTime, ThreadActivity now) =>
        runTime is { } time && !now.Running && _threads.TryGetValue(tid, out var last) && last.ConfirmedAtRunTime == time
        && last.StackPointer == now.StackPointer && last.ProgramCounter == now.ProgramCounter && last.LinesGeneration == LinesGeneration
            ? last.Stack
            : null;

    /// <summary>The remembered stack of a thread that is provably where it was at its last walk; else null.</summary>
    public ThreadStack? TryReuse(int tid, ThreadActivity activity, ulong? runTime)
    {
        _seenBeforeStop.Remove(tid);
        if (activity.Running) return null;
        if (!_threads.TryGetValue(tid, out var last) || last.StackPointer != activity.StackPointer || last.ProgramCounter != activity.ProgramCounter
            || last.LinesGeneration != LinesGeneration)
        {
            // Note what the thread looked like before the stop, to remember with its walk.
            _seenBeforeStop[tid] = activity;
            return null;
        }
        var hash = HashStack(activity.StackPointer, last.Extent);
        if (hash == last.Hash)
        {
            last.ConfirmedAtRunTime = runTime;
            return last.Stack;
        }
        _seenBeforeStop[tid] = activity;
        return null;
    }

    /// <summary>
    /// After a walk, while the thread is still stopped: if it was blocked before the stop and still at the same stack
    /// pointer and pc when stopped (so the walk shows that very moment), hashes its stack memory as the walk read it, up
    /// to <paramref name="outermostSp"/>. Hashed after the resume instead, the memory could already be another call's:
    /// a thread that slept in two methods by turns, at one stack pointer, was remembered with one method's walk and
    /// the other's memory, and then given the wrong one (found by SNAPPER_VERIFY_REUSE). The pc must match too: what is
    /// remembered is the survey's pc, and a thread that ran and blocked again at the same stack pointer elsewhere would
    /// be remembered with a walk of the one place under the pc of the other.
    /// </summary>
    public void HashWhileStopped(int tid, ulong stoppedSp, ulong stoppedPc, ulong outermostSp)
    {
        _hashedAtStop.Remove(tid);
        if (!_seenBeforeStop.TryGetValue(tid, out var seen) || seen.StackPointer != stoppedSp || seen.ProgramCounter != stoppedPc
            || outermostSp < stoppedSp) return;
        var extent = (int)Math.Min(outermostSp - stoppedSp + 64, MaxHashedBytes);
        _hashedAtStop[tid] = (extent, stackHash.Of(stoppedSp, extent, cached: true));
    }

    /// <summary>The thread's walk of this snapshot was not hashed (see <see cref="Remember"/>, which then forgets it).</summary>
    public void NotHashed(int tid) => _hashedAtStop.Remove(tid);

    /// <summary>Once the walk is named: remembers the stack of a thread hashed by <see cref="HashWhileStopped"/>.</summary>
    public void Remember(int tid, ThreadStack stack)
    {
        if (!_hashedAtStop.Remove(tid, out var hashed) || !_seenBeforeStop.TryGetValue(tid, out var seen))
        {
            _threads.Remove(tid);
            return;
        }
        _threads[tid] = new Remembered(seen.StackPointer, seen.ProgramCounter, hashed.Extent, hashed.Hash, stack, LinesGeneration);
    }

    /// <summary>Drops threads that are gone.</summary>
    public void Retain(HashSet<int> live)
    {
        _threads.KeepOnly(live);
        _hashedAtStop.KeepOnly(live);
    }

    ulong HashStack(ulong sp, int extent) => stackHash.Of(sp, extent, cached: false);
}
