using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>Walks every live managed thread of a runtime. Does no string work: that happens after the resume.</summary>
static class ClrStackWalker
{
    /// <param name="isStopped">Only threads Snapper holds stopped are walked: a running thread has no stable stack.</param>
    /// <param name="ilOffsets">Gives each managed frame its IL offset, for source lines.</param>
    /// <param name="recovery">When given, a walk that finds no managed frame is retried from the managed caller of
    /// the native code the thread is in.</param>
    public static List<RawThread> Walk(IEnumerable<ClrThread> candidates, Func<uint, bool> isStopped, int maxFrames, ILOffsets ilOffsets,
        NativeLeafRecovery? recovery = null)
    {
        var threads = new List<RawThread>();
        foreach (var thread in candidates)
        {
            if (!thread.IsAlive || thread.OSThreadId == 0 || !isStopped(thread.OSThreadId)) continue;
            var (frames, outermost) = WalkOne(thread, maxFrames);
            string? nativeModule = null;
            if (recovery is not null && !frames.Any(f => f.Kind == ClrStackFrameKind.ManagedMethod)
                && recovery.TryRedirect(thread.OSThreadId) is { } module)
            {
                var (recovered, recoveredOutermost) = WalkOne(thread, maxFrames);
                recovery.Clear(thread.OSThreadId);
                if (recovered.Any(f => f.Kind == ClrStackFrameKind.ManagedMethod))
                    (frames, outermost, nativeModule) = (recovered, recoveredOutermost, module);
            }
            var located = WithILOffsets(frames, leafIsExecuting: nativeModule is null, ilOffsets);
            threads.Add(new RawThread((int)thread.OSThreadId, thread.ManagedThreadId, thread.Address, located, outermost, nativeModule, FlagsOf(thread)));
        }
        return threads;
    }

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

    static RuntimeThreadFlags FlagsOf(ClrThread thread)
    {
        var flags = RuntimeThreadFlags.None;
        if (thread.IsFinalizer) flags |= RuntimeThreadFlags.Finalizer;
        if (thread.IsGc) flags |= RuntimeThreadFlags.GarbageCollector;
        if ((thread.State & ClrThreadState.TS_TPWorkerThread) != 0) flags |= RuntimeThreadFlags.ThreadPoolWorker;
        if ((thread.State & ClrThreadState.TS_CompletionPortThread) != 0) flags |= RuntimeThreadFlags.CompletionPort;
        return flags;
    }

    static (List<RawFrame> Frames, ulong Outermost) WalkOne(ClrThread thread, int maxFrames)
    {
        var frames = new List<RawFrame>();
        ulong outermost = 0;
        // maxFrames bounds the walk: a corrupt stack can otherwise loop forever.
        foreach (var frame in thread.EnumerateStackTrace(includeContext: false, maxFrames))
        {
            outermost = Math.Max(outermost, frame.StackPointer);
            var raw = new RawFrame(frame.Kind, frame.Method, frame.Kind == ClrStackFrameKind.ManagedMethod ? null : frame.FrameName, frame.InstructionPointer,
                StackPointer: frame.StackPointer);
            // ClrMD yields each explicit runtime frame (InlinedCallFrame, ...) twice in a row: keep one.
            if (raw.Kind != ClrStackFrameKind.ManagedMethod && frames.Count > 0 && frames[^1].SameFrameAs(raw)) continue;
            frames.Add(raw);
        }
        return (frames, outermost);
    }
}
