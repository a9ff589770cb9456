using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Spares the DAC's stack walk, the most expensive part of a sample, for a thread busy in a loop. Such a thread is
/// stopped at a new instruction each time, but mostly in the same method at the same stack depth, below the same
/// callers. So when a stopped thread's stack pointer is one it had at a recent walk, its pc lies in the same
/// method's code, and the stack memory from that frame's return address up to the outermost frame is unchanged
/// (callers' frames, return addresses and the runtime's frames all live there), the walk would find the same
/// callers: only the innermost frame moves, to the new pc. Anything else is walked again.
/// The registers come from a stop, or from the kernel for a thread waiting for a CPU (see
/// <see cref="ThreadActivity.Preempted"/>): such a thread is where its registers say, and needs no stop at all.
/// The thread's innermost runtime Frame is checked too: it lives in the Thread object, not in the hashed stack, and a
/// P/Invoke the JIT inlined links one (in the innermost frame's own memory) for as long as the call lasts. A thread
/// stopped inside such a call, in the very method and at the very depth of a walk made outside it, was handed that walk
/// without its QCall frame (a thread pool worker preempted in LowLevelLifoSemaphore.Wait's call to YieldThread).
/// </summary>
/// <param name="frameHeadAddress">Where a Thread object (by address) keeps its innermost Frame; 0 when not known (then
/// only the stack is checked).</param>
sealed class RunningStackReuse(StackMemoryHash stackHash, ILOffsets ilOffsets, Func<ulong, ulong> frameHeadAddress)
{
    /// <summary>
    /// SNAPPER_RUNNING_REUSE=off walks every stopped thread, as before this existed: only for measuring what it saves
    /// (the benchmark's numbers in docs/benchmarks.md) and for ruling it out when a stack looks wrong.
    /// </summary>
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("SNAPPER_RUNNING_REUSE") != "off";

    /// <summary>Walks kept per thread: a loop that calls a few methods visits a few depths.</summary>
    const int PerThread = 4;
    const int MaxHashedBytes = 256 * 1024;

    sealed record Walk(ulong LeafStackPointer, ulong CodeStart, ulong CodeEnd, ulong HashedFrom, int Extent, ulong Hash, RawThread Thread, int LinesGeneration,
        ulong FrameHead, ulong FrameHeadHash)
    {
        /// <summary>
        /// The stack last handed out from this walk. A pc on the same line gives this very object back, so its frames are
        /// named once and the store knows the stack by reference.
        /// </summary>
        public RawThread? LastReused { get; set; }
    }

    readonly Dictionary<int, List<Walk>> _threads = new();
    readonly List<Walk?> _matches = new();
    readonly List<(ulong From, int Extent)> _ranges = new();
    readonly List<ulong> _hashes = new();

    /// <summary>The <see cref="FrameResolver.LinesGeneration"/> of this snapshot's walks: a walk from another is not reused.</summary>
    public int LinesGeneration { get; set; }

    /// <summary>The thread's stack, from an earlier walk with the innermost frame moved to the pc; null when it must be walked.</summary>
    /// <remarks>
    /// The thread is stopped. Its stack memory is read in one system call rather than page by page through the
    /// snapshot's cache: when the stack is reused (the common case) nothing else reads those pages.
    /// </remarks>
    public RawThread? TryReuse(int tid, ulong pc, ulong sp) =>
        Match(tid, pc, sp) is { } walk && stackHash.Of(walk.HashedFrom, walk.Extent, cached: false) == walk.Hash
        && (walk.FrameHead == 0 || stackHash.Of(walk.FrameHead, 8, cached: false) == walk.FrameHeadHash)
            ? Reuse(walk, pc)
            : null;

    /// <summary>
    /// <see cref="TryReuse"/> for threads that are not stopped (see <see cref="ThreadActivity.Preempted"/>), their stack
    /// memory read straight from the target, all in one system call. <paramref name="reused"/> gets one entry per thread.
    /// </summary>
    public void TryReuseUnstopped(List<(int Tid, ThreadActivity Activity)> threads, List<RawThread?> reused)
    {
        _matches.Clear();
        _ranges.Clear();
        foreach (var (tid, activity) in threads)
        {
            var walk = Match(tid, activity.ProgramCounter, activity.StackPointer);
            _matches.Add(walk);
            if (walk is null) continue;
            _ranges.Add((walk.HashedFrom, walk.Extent));
            if (walk.FrameHead != 0) _ranges.Add((walk.FrameHead, 8));
        }
        stackHash.OfUncached(_ranges, _hashes);
        reused.Clear();
        var next = 0;
        for (var i = 0; i < threads.Count; i++)
        {
            var walk = _matches[i];
            if (walk is null)
            {
                reused.Add(null);
                continue;
            }
            var same = _hashes[next++] == walk.Hash;
            if (walk.FrameHead != 0) same &= _hashes[next++] == walk.FrameHeadHash;
            reused.Add(same ? Reuse(walk, threads[i].Activity.ProgramCounter) : null);
        }
    }

    /// <summary>The walk at this stack pointer whose innermost method's code holds the pc (at most one: see <see cref="Remember"/>).</summary>
    Walk? Match(int tid, ulong pc, ulong sp)
    {
        if (!_threads.TryGetValue(tid, out var walks)) return null;
        for (var i = 0; i < walks.Count; i++)
        {
            var walk = walks[i];
            if (walk.LeafStackPointer != sp || pc < walk.CodeStart || pc > walk.CodeEnd || walk.LinesGeneration != LinesGeneration) continue;
            if (i > 0) (walks[0], walks[i]) = (walks[i], walks[0]); // most recently used first
            return walk;
        }
        return null;
    }

    RawThread Reuse(Walk walk, ulong pc)
    {
        var leaf = walk.Thread.Frames[0];
        var ilOffset = ilOffsets.Find(leaf.Method!, pc);
        if (walk.LastReused is { } last && last.Frames[0].ILOffset == ilOffset) return last;
        var frames = (RawFrame[])walk.Thread.Frames.Clone();
        frames[0] = leaf with { InstructionPointer = pc, ILOffset = ilOffset };
        return walk.LastReused = walk.Thread with { Frames = frames };
    }

    /// <summary>After a walk of a thread stopped with <paramref name="registers"/>: keep it if it qualifies.</summary>
    public void Remember(RawThread thread, in Native.UserRegs registers)
    {
        var frames = thread.Frames;
        // Executing managed code (the innermost frame is the one at the pc), with a managed caller whose frame
        // bounds what the innermost one may change.
        if (thread.InNativeCode || thread.NativeLeafModule is not null || frames.Length < 2) return;
        var (leaf, caller) = (frames[0], frames[1]);
        if (leaf.Kind != ClrStackFrameKind.ManagedMethod || leaf.Method is null || leaf.InstructionPointer != registers.Rip
            || leaf.StackPointer != registers.Rsp || caller.Kind != ClrStackFrameKind.ManagedMethod || caller.StackPointer <= registers.Rsp
            || thread.OutermostStackPointer < caller.StackPointer)
            return;
        if (CodeOf(leaf.Method, registers.Rip) is not { } code) return;
        var from = caller.StackPointer - 8; // the innermost frame's return address
        var extent = (int)Math.Min(thread.OutermostStackPointer - from + 64, MaxHashedBytes);
        var head = frameHeadAddress(thread.ThreadAddress);
        var walk = new Walk(registers.Rsp, code.Start, code.End, from, extent, stackHash.Of(from, extent, cached: true), thread, LinesGeneration,
            head, head == 0 ? 0 : stackHash.Of(head, 8, cached: true));
        if (!_threads.TryGetValue(thread.OsThreadId, out var walks)) _threads[thread.OsThreadId] = walks = new List<Walk>(PerThread);
        walks.RemoveAll(w => w.LeafStackPointer == walk.LeafStackPointer);
        if (walks.Count == PerThread) walks.RemoveAt(walks.Count - 1);
        walks.Insert(0, walk);
    }

    /// <summary>
    /// The extent of the code the pc is in: the method's code version whose IL map was read, or else its current
    /// code (the DAC maps only a method's first code version, so an optimised version is known by its extent alone).
    /// </summary>
    (ulong Start, ulong End)? CodeOf(ClrMethod method, ulong pc)
    {
        if (ilOffsets.CodeOf(method.MethodDesc, pc) is { } mapped) return mapped;
        var regions = method.HotColdInfo;
        if (regions.HotStart <= pc && pc < regions.HotStart + regions.HotSize) return (regions.HotStart, regions.HotStart + regions.HotSize - 1);
        if (regions.ColdStart <= pc && pc < regions.ColdStart + regions.ColdSize) return (regions.ColdStart, regions.ColdStart + regions.ColdSize - 1);
        return null;
    }

    /// <summary>Forgets a thread whose walk cannot be trusted any more (it was not found by the runtime, say).</summary>
    public void Forget(int tid) => _threads.Remove(tid);

    /// <summary>Drops threads that are gone.</summary>
    public void Retain(HashSet<int> live) => _threads.KeepOnly(live);
}
