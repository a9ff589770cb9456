using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// Walks a stopped thread's managed stack without the DAC, producing exactly the frames the DAC walk would: each
/// managed frame is unwound with its method's own unwind info (<see cref="X64UnwindInfo"/>, found through
/// <see cref="CodeMap"/>), and the runtime's explicit frames are followed where the thread is in native code
/// (<see cref="ExplicitFrames"/>). Everything is read from the stopped thread's registers and stack in one stop.
/// Whatever it cannot prove (a frame in a funclet, code without unwind info, a Frame type it has not learned) makes it
/// give up on that thread, which the DAC then walks: the result is the DAC's or the same as the DAC's, never a guess.
/// </summary>
sealed class FastStackWalker(CodeMap code, ExplicitFrames explicitFrames)
{
    const int CodeBytes = 32; // enough for an epilog: stack adjustment, pops, return

    readonly byte[] _code = new byte[CodeBytes];

    public ExplicitFrames ExplicitFrames => explicitFrames;

    public CodeMap Code => code;

    public bool IsManagedCode(ulong address, IWalkMemory memory) => code.Find(address, memory) is { Method: not null };

    /// <summary>Why the last walk gave up (for the verification mode's report).</summary>
    public string? Refusal { get; private set; }
    /// <summary>Frames walked in funclets (for the verification mode's report).</summary>
    public long FuncletFrames { get; private set; }

    /// <summary>
    /// The last walk gave up at a return address that is in no managed code the runtime knows and in no native library:
    /// no code a call returns to, so the walk started from a place that was not a frame.
    /// </summary>
    public bool LeftKnownCode { get; private set; }

    (List<RawFrame>, ulong)? Refuse(string why)
    {
        Refusal = why;
        return null;
    }

    /// <summary>The frames, innermost first, and the highest stack pointer among them; null when the DAC must walk it.</summary>
    public (List<RawFrame> Frames, ulong Outermost)? TryWalk(ulong thread, UnwindContext registers, int maxFrames, IWalkMemory memory)
    {
        Refusal = null;
        LeftKnownCode = false;
        if (!explicitFrames.TryHead(thread, memory, out var frame)) return Refuse("thread's frame chain not learned");
        var frames = new List<RawFrame>();
        var context = registers;
        var innermost = true;
        while (frames.Count < maxFrames)
        {
            if (code.Find(context.Ip, memory) is { } compiled)
            {
                if (compiled.Unwind is null || compiled.Method is null) return Refuse($"no unwind info or method for {compiled.Method?.Name} at {context.Ip:x}");
                var caller = context;
                var codeBytes = innermost ? _code.AsSpan(0, memory.Read(context.Ip, _code)) : default;
                if (compiled.InBody(context.Ip, returnAddress: !innermost))
                {
                    var around = (context.Ip - compiled.Start, compiled.BodyEnd - context.Ip);
                    if (!compiled.Unwind.TryUnwind(ref caller, context.Ip - compiled.Start, innermost, codeBytes, around, memory)) return Refuse("unwind read failed");
                }
                else if (!TryUnwindFunclet(compiled, ref caller, innermost, codeBytes, memory)) return null;
                if (caller.Sp <= context.Sp) return Refuse("no progress"); // a corrupt stack
                // Explicit frames live in the stack of the managed frame that pushed them, and come before it.
                while (frame != ExplicitFrames.Top && frame < caller.Sp)
                {
                    var (kind, name) = explicitFrames.Classify(frame, memory);
                    ClrMethod? named = null;
                    // A P/Invoke that has just returned: its frame is still linked and names its target until the
                    // caller unlinks it.
                    if (kind == ExplicitFrames.Kind.InlinedCall && explicitFrames.InlinedCallOf(frame, memory) is { } returned) named = returned.Target;
                    // Linked but with no call in progress (an IL stub calling SafeHandle.DangerousAddRef before its
                    // P/Invoke): the DAC reports it and names no method (31 of 66 DAC walks after the first 10 s on
                    // ShopService under load, all in SQLite's stubs).
                    else if (kind == ExplicitFrames.Kind.InlinedCall && explicitFrames.IsInactive(frame, memory)) named = null;
                    else if (kind != ExplicitFrames.Kind.Marker) return Refuse($"frame {name ?? "unknown"} inside a managed frame");
                    frames.Add(new RawFrame(ClrStackFrameKind.Runtime, named, name, context.Ip, StackPointer: frame));
                    if (!ExplicitFrames.TryNext(frame, memory, out frame)) return Refuse("frame chain unreadable");
                }
                frames.Add(new RawFrame(ClrStackFrameKind.ManagedMethod, compiled.Method, null, context.Ip, StackPointer: context.Sp));
                context = caller;
                innermost = false;
                continue;
            }
            // A managed frame returns into native code only in a library (the runtime's call into managed code); any
            // other address (a stub, code not known yet) is left to the DAC.
            if (!innermost && !code.InNativeLibrary(context.Ip))
            {
                LeftKnownCode = true;
                return Refuse("return address in no known code");
            }
            // Native code: the managed stack resumes at the next explicit frame, if any.
            if (frame == ExplicitFrames.Top) break;
            var (frameKind, frameName) = explicitFrames.Classify(frame, memory);
            switch (frameKind)
            {
                case ExplicitFrames.Kind.InlinedCall when explicitFrames.InlinedCallOf(frame, memory) is { } call:
                    frames.Add(new RawFrame(ClrStackFrameKind.Runtime, call.Target, frameName, context.Ip, StackPointer: frame));
                    context = call.Caller;
                    innermost = false;
                    break;
                case ExplicitFrames.Kind.Marker:
                    // At the base of a thread (the last frame of its chain) the DAC ends the walk here. A nested one (the
                    // runtime's native code called back into managed code, the JIT preparing a method on a thread already
                    // in managed code) the DAC walks on from, through the frames after it: FastWalkVerificationTests
                    // found [U2M] against the DAC's [U2M, PrestubMethodFrame: ResolveService, GetService, ...] on ShopService.
                    // So the walk goes on from the next frame, still in native code. A marker right after another is the
                    // same frame to the walk of the DAC's (see RawFrame.SameFrameAs): a runtime thread that entered managed
                    // code twice, [U2M, U2M] with nothing between, is walked as one (213 DAC walks in 20 s on ShopService).
                    var marker = new RawFrame(ClrStackFrameKind.Runtime, null, frameName, context.Ip, StackPointer: frame);
                    if (frames.Count == 0 || !frames[^1].SameFrameAs(marker)) frames.Add(marker);
                    var markerAt = frame;
                    if (!ExplicitFrames.TryNext(frame, memory, out frame)) return Refuse("frame chain unreadable");
                    if (frame == ExplicitFrames.Top) return Walked(frames);
                    if (frame <= markerAt) return Refuse("frame chain goes inwards"); // corrupt: frames are pushed outermost first
                    continue;
                case ExplicitFrames.Kind.Transition when explicitFrames.TransitionOf(frame, frameName!, memory) is { } transition:
                    frames.Add(new RawFrame(ClrStackFrameKind.Runtime, transition.Method, frameName, context.Ip, StackPointer: frame));
                    context = transition.Caller;
                    innermost = transition.Interrupted; // a thread interrupted there may be in a prolog or an epilog
                    break;
                default:
                    return Refuse($"frame {frameName ?? "unknown"} from native code");
            }
            // A P/Invoke or a stub is called from managed code: a caller that is not means a layout learned wrong for
            // this frame (or code not yet known), and the DAC is asked rather than ending the walk there.
            if (code.Find(context.Ip, memory) is not { Method: not null }) return Refuse($"caller of {frameName} not in managed code");
            if (!ExplicitFrames.TryNext(frame, memory, out frame)) return Refuse("frame chain unreadable");
        }
        return Walked(frames);
    }

    /// <summary>
    /// A frame in a funclet is walked fast only when the method's own body called it: a finally run on the way out of its
    /// try without an exception (the JIT calls the funclet from the body when it does not copy the finally inline). The
    /// DAC reports that frame as the method, then the body's frame. A funclet the runtime called (exception dispatch) is
    /// left to the DAC, as is one whose unwind sets a frame register (the parent's frame, not the funclet's own).
    /// </summary>
    bool TryUnwindFunclet(CompiledCode compiled, ref UnwindContext context, bool innermost, ReadOnlySpan<byte> codeBytes, IWalkMemory memory)
    {
        if (compiled.FuncletAt(context.Ip) is not { Unwind: { SetsFrameRegister: false } unwind } funclet)
        {
            Refuse($"funclet of {compiled.Method?.Name}");
            return false;
        }
        var caller = context;
        if (!unwind.TryUnwind(ref caller, context.Ip - funclet.Start, innermost, codeBytes, (context.Ip - funclet.Start, funclet.End - context.Ip), memory))
        {
            Refuse("unwind read failed");
            return false;
        }
        if (!compiled.InBody(caller.Ip, returnAddress: true) || caller.Ip == compiled.Start)
        {
            Refuse($"funclet of {compiled.Method?.Name} called by the runtime");
            return false;
        }
        context = caller;
        FuncletFrames++;
        return true;
    }

    static (List<RawFrame>, ulong) Walked(List<RawFrame> frames)
    {
        ulong outermost = 0;
        foreach (var walked in frames) outermost = Math.Max(outermost, walked.StackPointer);
        return (frames, outermost);
    }
}
