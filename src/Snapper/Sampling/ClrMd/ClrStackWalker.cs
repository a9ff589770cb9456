using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>Walks every live managed thread of a runtime. Does no string work: that happens after the resume.</summary>
static class ClrStackWalker
{
    /// <param name="isStopped">Only threads Snapper holds stopped are walked: a running thread has no stable stack.</param>
    /// <param name="ilOffsets">Gives each managed frame its IL offset, for source lines.</param>
    /// <param name="recovery">When given, a walk that finds no managed frame is retried from the managed caller of
    /// the native code the thread is in.</param>
    /// <param name="fast">When given, each thread is first walked without the DAC (see <see cref="FastWalk.FastWalking"/>).</param>
    /// <param name="beforeDac">Runs before the DAC is first used (the fast walk may make that never).</param>
    /// <param name="stackRange">Where a thread's stack lies, from its stack pointer at the stop to its highest address
    /// (0 when not known): the DAC's frames outside it are not the thread's.</param>
    /// <param name="ids">Snapper's ids of the target's threads (see <see cref="ThreadIds"/>).</param>
    public static List<RawThread> Walk(IEnumerable<ClrThread> candidates, Func<uint, bool> isStopped, int maxFrames, ILOffsets ilOffsets, ThreadIds ids,
        NativeLeafRecovery? recovery = null, FastWalk.FastWalking? fast = null, Action? beforeDac = null, Func<ClrThread, (ulong Low, ulong High)>? stackRange = null)
    {
        var threads = new List<RawThread>();
        var stopped = candidates.Where(t => t.IsAlive && ids.Of(t) is var tid and not 0 && isStopped(tid)).ToList();
        fast?.CopyStacks(stopped);
        foreach (var thread in stopped)
        {
            var range = stackRange?.Invoke(thread) ?? (thread.StackLimit, thread.StackBase);
            var tid = ids.Of(thread);
            var (frames, outermost, nativeModule) = (fast is null ? null : WalkFast(thread, tid, maxFrames, recovery, fast, beforeDac, range))
                ?? WalkWithDac(thread, tid, maxFrames, recovery, fast, beforeDac, range);
            var located = WithILOffsets(frames, leafIsExecuting: nativeModule is null, ilOffsets);
            threads.Add(new RawThread((int)tid, thread.ManagedThreadId, thread.Address, located, outermost, nativeModule, FlagsOf(thread))
            {
                LeafAddress = LeafIsManaged(located, nativeModule) ? 0 : recovery?.InstructionPointer(tid) ?? 0,
            });
        }
        return threads;
    }

    /// <summary>
    /// The fast walk of a thread that was not stopped, from the registers it resumes with and the copy of its stack up to
    /// <paramref name="stackHigh"/> (see UnstoppedWalks), as <see cref="WalkFast"/> walks a stopped one; null when it
    /// cannot be walked so (it is stopped and walked). A thread in native code is walked from its managed caller, found
    /// in the copy (NativeLeafRecovery), unless a word on the way may be a return address into code too new to place.
    /// </summary>
    public static RawThread? WalkUnstopped(ClrThread thread, uint tid, in Linux.Native.UserRegs registers, ulong stackHigh, int maxFrames, ILOffsets ilOffsets,
        FastWalk.FastWalking fast, NativeLeafRecovery recovery)
    {
        if (fast.TryWalkSealed(thread, registers, maxFrames) is not { } walked) return null;
        string? nativeModule = null;
        if (!HasManagedFrame(walked.Frames))
        {
            var caller = recovery.FindCaller(registers, fast.IsManagedCodeSealed, fast.SealedMemory, stackHigh - registers.Rsp, out var uncertain);
            if (uncertain) return null;
            if (caller is { } found)
            {
                if (fast.TryWalkSealed(thread, found.Caller, maxFrames) is not { } recovered || !HasManagedFrame(recovered.Frames)) return null;
                (walked, nativeModule) = (recovered, found.Module);
            }
        }
        var located = WithILOffsets(walked.Frames, leafIsExecuting: nativeModule is null, ilOffsets);
        return new RawThread((int)tid, thread.ManagedThreadId, thread.Address, located, walked.Outermost, nativeModule, FlagsOf(thread))
        {
            LeafAddress = LeafIsManaged(located, nativeModule) ? 0 : registers.Rip,
        };
    }

    /// <summary>The fast walk, from where the thread stopped or, in native code without a transition frame, from its
    /// managed caller (as <see cref="WalkWithDac"/> recovers it); null when the DAC must walk the thread.</summary>
    static (List<RawFrame>, ulong, string?)? WalkFast(ClrThread thread, uint tid, int maxFrames, NativeLeafRecovery? recovery, FastWalk.FastWalking fast,
        Action? beforeDac, (ulong Low, ulong High) range)
    {
        if (fast.TryWalk(thread, maxFrames) is not { } walked) return null;
        string? nativeModule = null;
        if (!HasManagedFrame(walked.Frames) && recovery?.MayApply(tid) == true)
        {
            // Nothing managed below the native code either: a runtime thread in its own code (the DAC finds nothing too).
            if (recovery.FindCaller(tid, fast.IsManagedCode) is { } found)
            {
                if (fast.TryWalkFrom(thread, found.Caller, maxFrames) is { } recovered && HasManagedFrame(recovered.Frames))
                    (walked, nativeModule) = (recovered, found.Module);
                else if (!fast.LeftKnownCode)
                {
                    fast.NoteRefusal("no walk from the managed caller of the native code it is in");
                    return null;
                }
                // Else the word taken for the caller's return address was a stale one (a runtime thread in the GC or the
                // JIT keeps old return addresses below its native frames): its walk returned into no code at all. The
                // thread is in native code with no managed caller found, which is what the walk without recovery says.
                // The DAC was asked before, 22 times in 40 s on ShopService, ~15 ms each with the thread held, and its
                // own walk said the same ([U2M] and nothing else).
            }
        }
        if (FastWalk.FastWalking.Verify)
        {
            beforeDac?.Invoke();
            if (nativeModule is not null) recovery!.TryRedirect(tid, fast.IsManagedCode);
            fast.Compare(thread, walked.Frames, WalkOne(thread, maxFrames, range, fast).Frames);
            recovery?.Clear(tid);
        }
        return (walked.Frames, walked.Outermost, nativeModule);
    }

    static (List<RawFrame>, ulong, string?) WalkWithDac(ClrThread thread, uint tid, int maxFrames, NativeLeafRecovery? recovery, FastWalk.FastWalking? fast,
        Action? beforeDac, (ulong Low, ulong High) range)
    {
        beforeDac?.Invoke();
        var (frames, outermost) = WalkOne(thread, maxFrames, range, fast);
        fast?.Learn(thread, frames);
        string? nativeModule = null;
        if (recovery is not null && !HasManagedFrame(frames) && recovery.TryRedirect(tid, fast is null ? null : fast.IsManagedCode) is { } module)
        {
            var (recovered, recoveredOutermost) = WalkOne(thread, maxFrames, range, fast);
            recovery.Clear(tid);
            if (HasManagedFrame(recovered)) (frames, outermost, nativeModule) = (recovered, recoveredOutermost, module);
        }
        return (frames, outermost, nativeModule);
    }

    static bool OnStack((ulong Low, ulong High) range, ulong sp) => range.Low <= sp && (range.High == 0 || sp <= range.High);

    static bool HasManagedFrame(List<RawFrame> frames) => frames.Exists(f => f.Kind == ClrStackFrameKind.ManagedMethod);

    static bool LeafIsManaged(RawFrame[] innermostFirst, string? nativeModule) =>
        nativeModule is null && innermostFirst.Length > 0 && innermostFirst[0].Kind == ClrStackFrameKind.ManagedMethod;

    /// <param name="leafIsExecuting">The innermost frame's instruction pointer is the instruction being executed; for
    /// every caller (and a managed frame below the native code the thread was stopped in) it is a return address, and
    /// the call is the instruction before it.</param>
    static RawFrame[] WithILOffsets(List<RawFrame> innermostFirst, bool leafIsExecuting, ILOffsets ilOffsets)
    {
        var result = new RawFrame[innermostFirst.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var frame = innermostFirst[i];
            if (frame.Kind == ClrStackFrameKind.ManagedMethod && frame.Method is { } method && frame.InstructionPointer != 0)
            {
                var address = i == 0 && leafIsExecuting ? frame.InstructionPointer : frame.InstructionPointer - 1;
                frame = frame with { ILOffset = ilOffsets.Find(method, address) };
            }
            result[i] = frame;
        }
        return result;
    }

    internal static RuntimeThreadFlags FlagsOf(ClrThread thread)
    {
        var flags = RuntimeThreadFlags.None;
        if (thread.IsFinalizer) flags |= RuntimeThreadFlags.Finalizer;
        if (thread.IsGc) flags |= RuntimeThreadFlags.GarbageCollector;
        if ((thread.State & ClrThreadState.TS_TPWorkerThread) != 0) flags |= RuntimeThreadFlags.ThreadPoolWorker;
        if ((thread.State & ClrThreadState.TS_CompletionPortThread) != 0) flags |= RuntimeThreadFlags.CompletionPort;
        return flags;
    }

    /// <summary>The DAC's walk of a stopped thread: ClrMD's, or with <paramref name="fast"/> the same frames named from its code map (see FastWalking.DacWalk).</summary>
    static (List<RawFrame> Frames, ulong Outermost) WalkOne(ClrThread thread, int maxFrames, (ulong Low, ulong High) range, FastWalk.FastWalking? fast)
    {
        var walked = fast?.DacWalk(thread, maxFrames);
        if (walked is not null && VerifyDacFrames) CompareWithClrMd(thread, maxFrames, range, walked);
        return Filtered(walked ?? ClrMdWalk(thread, maxFrames), range);
    }

    /// <summary>
    /// SNAPPER_VERIFY_DAC_FRAMES=1: each DAC walk is also walked by ClrMD's ClrThread.EnumerateStackTrace, from the same
    /// stop, and any difference is written to standard error (and counted: <see cref="DacFramesSummary"/>).
    /// </summary>
    public static readonly bool VerifyDacFrames = Environment.GetEnvironmentVariable("SNAPPER_VERIFY_DAC_FRAMES") == "1";

    static long _dacFramesCompared, _dacFramesDiffering;

    public static string DacFramesSummary() =>
        $"dac frame verification: {_dacFramesCompared} walks compared with ClrMD's, {_dacFramesDiffering} differences";

    static void CompareWithClrMd(ClrThread thread, int maxFrames, (ulong Low, ulong High) range, List<RawFrame> walked)
    {
        var ours = Filtered(walked, range).Frames;
        var theirs = Filtered(ClrMdWalk(thread, maxFrames), range).Frames;
        var same = ours.Count == theirs.Count;
        for (var i = 0; same && i < ours.Count; i++)
            same = ours[i].Kind == theirs[i].Kind && ours[i].Method?.MethodDesc == theirs[i].Method?.MethodDesc && ours[i].FrameName == theirs[i].FrameName
                && ours[i].InstructionPointer == theirs[i].InstructionPointer && ours[i].StackPointer == theirs[i].StackPointer;
        _dacFramesCompared++;
        if (same) return;
        _dacFramesDiffering++;
        Console.Error.WriteLine($"dac frames differ, thread {thread.OSThreadId}:\n  ours   {Describe(ours)}\n  ClrMD  {Describe(theirs)}");
    }

    static string Describe(List<RawFrame> frames) =>
        string.Join(" | ", frames.Select(f => $"{f.Kind} {f.Method?.Name ?? f.FrameName} {f.InstructionPointer:x}/{f.StackPointer:x}"));

    static List<RawFrame> ClrMdWalk(ClrThread thread, int maxFrames) =>
        // maxFrames bounds the walk: a corrupt stack can otherwise loop forever.
        thread.EnumerateStackTrace(includeContext: false, maxFrames)
            .Select(frame => new RawFrame(frame.Kind, frame.Method, frame.Kind == ClrStackFrameKind.ManagedMethod ? null : frame.FrameName, frame.InstructionPointer,
                StackPointer: frame.StackPointer))
            .ToList();

    static (List<RawFrame> Frames, ulong Outermost) Filtered(List<RawFrame> walked, (ulong Low, ulong High) range)
    {
        var frames = new List<RawFrame>();
        ulong outermost = 0;
        foreach (var raw in walked)
        {
            // On a thread with no managed code (no frame chain), the DAC can yield "managed" frames whose stack pointer
            // lies on another thread's stack, some naming no method: nothing real (the fast walk rightly finds nothing).
            if (raw.Kind == ClrStackFrameKind.ManagedMethod && (raw.Method is null || !OnStack(range, raw.StackPointer))) break;
            // ClrMD yields each explicit runtime frame (InlinedCallFrame, ...) twice in a row: keep one.
            if (raw.Kind != ClrStackFrameKind.ManagedMethod && frames.Count > 0 && frames[^1].SameFrameAs(raw)) continue;
            frames.Add(raw);
            outermost = Math.Max(outermost, raw.StackPointer);
        }
        return (frames, outermost);
    }
}
