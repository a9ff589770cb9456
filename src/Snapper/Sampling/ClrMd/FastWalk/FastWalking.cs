using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// Chooses, thread by thread, between the fast walk and the DAC's, and teaches the fast walk from the DAC's. With
/// SNAPPER_VERIFY_WALK=1 every thread walked fast is walked by the DAC too, from the same stop, and any difference is
/// written to standard error (and counted): the proof that the fast walk yields the DAC's frames.
/// </summary>
sealed class FastWalking
{
    public static readonly bool Verify = Environment.GetEnvironmentVariable("SNAPPER_VERIFY_WALK") == "1";

    readonly FastStackWalker _walker;
    readonly ThreadStopper _stopper;
    readonly WalkMemory _memory;
    readonly WalkMemory _sealed; // see CopySealed

    /// <summary>The stopped threads' stacks as copied for this snapshot's walks.</summary>
    public IWalkMemory Memory => _memory;

    /// <summary>Where the Thread object at <paramref name="thread"/> keeps its innermost runtime Frame; 0 until that is learned.</summary>
    public ulong FrameHeadAddressOf(ulong thread) => _walker.ExplicitFrames.TryHeadAddress(thread, out var address) ? address : 0;

    /// <summary>The stacks of threads walked without a stop, as copied by <see cref="CopySealed"/>.</summary>
    public IWalkMemory SealedMemory => _sealed;

    public long FastWalks { get; private set; }
    public long DacWalks { get; private set; }
    public long Differences { get; private set; }
    public long Compared { get; private set; }
    readonly Dictionary<string, int> _refusals = new(StringComparer.Ordinal);

    void Count(string refusal)
    {
        if (_refusals.Count < 1000) _refusals[refusal] = _refusals.GetValueOrDefault(refusal) + 1;
    }

    /// <summary>How the threads were walked, and why some were left to the DAC (the verification mode's report).</summary>
    public string Summary()
    {
        var reasons = string.Join("; ", _refusals.OrderByDescending(r => r.Value).Take(8).Select(r => $"{r.Value}x {r.Key}"));
        return $"walk verification: {Compared} threads walked both ways, {Differences} differences; {FastWalks} walked fast ({_walker.FuncletFrames} frames in funclets), {DacWalks} by the DAC"
            + (reasons.Length > 0 ? $" ({reasons})" : "") + $"; {_walker.Code.UnpublishedFound} addresses in code not yet published";
    }

    FastWalking(FastStackWalker walker, ThreadStopper stopper, ProcessMemory memory, ThreadIds ids)
    {
        _walker = walker;
        _ids = ids;
        _stopper = stopper;
        _memory = new WalkMemory(memory);
        _sealed = new WalkMemory(memory);
    }

    /// <param name="ensureDacFresh">Flushes the DAC's caches, once a snapshot, before its first use.</param>
    /// <param name="names">The runtime methods are described through (see <see cref="CodeMap"/>).</param>
    /// <param name="reader">What the DAC reads the target through (see <see cref="DacFrameWalk"/>).</param>
    /// <param name="ids">Snapper's ids of the target's threads; the DAC is asked by the runtime's.</param>
    public static FastWalking? TryCreate(ClrRuntime runtime, ClrRuntime names, ThreadStopper stopper, ProcessMemory memory, ExecutableRegions regions, Action ensureDacFresh,
        IDataReader reader, ThreadIds ids)
    {
        if (SosCodeHeaders.TryCreate(runtime) is not { } sos) return null;
        return new FastWalking(new FastStackWalker(new CodeMap(runtime, names, sos, regions, ensureDacFresh), new ExplicitFrames()), stopper, memory, ids)
        {
            _dacFrames = DacFrameWalk.TryCreate(runtime, reader),
        };
    }

    DacFrameWalk? _dacFrames;
    readonly ThreadIds _ids;
    readonly List<DacFrameWalk.Frame> _dacFrameList = [];

    /// <summary>
    /// The DAC's walk of a stopped thread, as ClrMD's ClrThread.EnumerateStackTrace yields it, but with the methods
    /// named from the code map, which knows them across samples, instead of described anew by the DAC after each flush
    /// (see <see cref="DacFrameWalk"/>); null when that walk is not available here (ClrMD's is used). The DAC must be fresh.
    /// </summary>
    public List<RawFrame>? DacWalk(ClrThread thread, int maxFrames)
    {
        if (_dacFrames is null) return null;
        var frames = new List<RawFrame>();
        if (!_dacFrames.TryWalk(thread.OSThreadId, maxFrames, _dacFrameList)) return frames; // as ClrMD: no walk, no frames
        var code = _walker.Code;
        foreach (var frame in _dacFrameList)
            frames.Add(frame.IsRuntime
                ? new RawFrame(ClrStackFrameKind.Runtime, frame.RuntimeFrameMethodDesc == 0 ? null : code.MethodOf(frame.RuntimeFrameMethodDesc), frame.RuntimeFrameName,
                    frame.InstructionPointer, StackPointer: frame.StackPointer)
                : new RawFrame(ClrStackFrameKind.ManagedMethod, code.MethodAt(frame.InstructionPointer, _memory), null, frame.InstructionPointer,
                    StackPointer: frame.StackPointer));
        return frames;
    }

    const int DefaultStackCopy = 16 * 1024, MaxStackCopy = 256 * 1024, StackCopySlack = 512;
    readonly Dictionary<int, int> _stackExtents = new();
    readonly List<(ulong From, int Extent)> _stackRanges = [];

    /// <summary>
    /// Copies the stacks of the threads about to be walked, all in one system call, each as deep as its last walk went
    /// (a deeper one is read on demand): a walk read them page by page, a system call each.
    /// </summary>
    public void CopyStacks(IEnumerable<ClrThread> threads)
    {
        _toCopy.Clear();
        foreach (var thread in threads)
            if (_stopper.TryGetRegisters((int)_ids.Of(thread), out var regs)) _toCopy.Add((thread, regs.Rsp));
        CopyStacks(_toCopy);
    }

    readonly List<(ClrThread, ulong)> _toCopy = [];

    void CopyStacks(List<(ClrThread Thread, ulong Sp)> threads)
    {
        _stackRanges.Clear();
        foreach (var (thread, sp) in threads)
            if (StackCopy(thread, sp) is { } range) _stackRanges.Add(range);
        _memory.CopyStacks(_stackRanges);
    }

    (ulong From, int Extent)? StackCopy(ClrThread thread, ulong sp)
    {
        if (sp == 0) return null;
        var extent = (ulong)_stackExtents.GetValueOrDefault((int)_ids.Of(thread), DefaultStackCopy);
        if (thread.StackBase > sp) extent = Math.Min(extent, thread.StackBase - sp);
        else if (thread.StackBase != 0) return null;
        return extent > 0 ? (sp, (int)extent) : null;
    }

    readonly List<(ulong Low, ulong High)> _sealedRanges = [];

    /// <summary>
    /// Copies, in one system call, what threads that are not stopped own and a walk reads (their stacks from the given
    /// stack pointers, and the word of each Thread naming its innermost Frame), for <see cref="TryWalkSealed"/>: made
    /// while they are known not to have run, it is what a stop would have found. Only threads whose stack bounds the
    /// mapping is known are taken.
    /// </summary>
    public void CopySealed(List<(ClrThread Thread, ulong Sp, ulong StackLow, ulong StackHigh)> threads)
    {
        _stackRanges.Clear();
        _sealedRanges.Clear();
        foreach (var (thread, sp, low, high) in threads)
        {
            if (!(low <= sp && sp < high) || thread.Address == 0) throw new ArgumentException($"thread {thread.OSThreadId}'s stack is not around its stack pointer", nameof(threads));
            // All of the stack in use: a walk that needs more than its copy cannot read the rest, and a service's
            // threads change depth from one sample to the next.
            _stackRanges.Add((sp, (int)Math.Min(high - sp, MaxStackCopy)));
            _sealedRanges.Add((low, high));
            // The whole start of the Thread, should the Frame's place in it be learned anew before the walk.
            _sealedRanges.Add((thread.Address, thread.Address + ExplicitFrames.ThreadScanBytes));
            if (_walker.ExplicitFrames.TryHeadAddress(thread.Address, out var head)) _stackRanges.Add((head, 8));
        }
        _sealed.CopyStacks(_stackRanges);
        _sealed.Seal(_sealedRanges);
    }

    /// <summary>
    /// A walk from <see cref="CopySealed"/>'s copies; null when it needs what they do not hold (the DAC is not asked: the
    /// thread may be running).
    /// </summary>
    public (List<RawFrame> Frames, ulong Outermost)? TryWalkSealed(ClrThread thread, in Native.UserRegs regs, int maxFrames)
    {
        _walker.Code.Lookup = CodeLookup.RunningCopy;
        try
        {
            var walked = TryWalkFrom(thread, regs, maxFrames, _sealed);
            if (walked is null) Count("sealed: " + (_walker.Refusal ?? "unknown"));
            return walked;
        }
        finally
        {
            _walker.Code.Lookup = CodeLookup.HeldFrames;
        }
    }

    /// <summary>Notes every read of the sealed copies (see <see cref="WalkReadSets"/>) until <see cref="StopRecordingSealed"/>.</summary>
    public void StartRecordingSealed(List<(ulong Address, int Length)> reads) => _sealed.StartRecording(reads);

    public void StopRecordingSealed() => _sealed.StopRecording();

    /// <summary>Whether an address is managed code, as a walk of the copies asks it (the lookups are not remembered as
    /// "no code": the thread may be running, and code compiled meanwhile may be there next time).</summary>
    public bool IsManagedCodeSealed(ulong address) => IsManagedCode(address, CodeLookup.RunningCopy, _sealed);

    bool IsManagedCode(ulong address, CodeLookup lookup, WalkMemory memory)
    {
        _walker.Code.Lookup = lookup;
        try
        {
            return _walker.IsManagedCode(address, memory);
        }
        finally
        {
            _walker.Code.Lookup = CodeLookup.HeldFrames;
        }
    }

    void RememberExtent(ClrThread thread, Native.UserRegs regs, ulong outermost)
    {
        if (outermost <= regs.Rsp) return;
        _stackExtents[(int)_ids.Of(thread)] = (int)Math.Min(outermost - regs.Rsp + StackCopySlack, MaxStackCopy);
    }

    /// <summary>Forgets what belonged to threads that are gone.</summary>
    public void Retain(HashSet<int> live) => _stackExtents.KeepOnly(live);

    public (List<RawFrame> Frames, ulong Outermost)? TryWalk(ClrThread thread, int maxFrames) =>
        _stopper.TryGetRegisters((int)_ids.Of(thread), out var regs) ? TryWalkFrom(thread, regs, maxFrames) : null;

    /// <summary>A walk from given registers (a managed caller found below native code) instead of the thread's own.</summary>
    public (List<RawFrame> Frames, ulong Outermost)? TryWalkFrom(ClrThread thread, Native.UserRegs regs, int maxFrames)
    {
        _walker.Code.Lookup = CodeLookup.HeldGuesses; // the caller was found among the stack's words
        try
        {
            return TryWalkFrom(thread, regs, maxFrames, _memory);
        }
        finally
        {
            _walker.Code.Lookup = CodeLookup.HeldFrames;
        }
    }

    (List<RawFrame> Frames, ulong Outermost)? TryWalkFrom(ClrThread thread, in Native.UserRegs regs, int maxFrames, WalkMemory memory)
    {
        var walked = _walker.TryWalk(thread.Address, new UnwindContext(regs.Rip, regs.Rsp, regs.Rbp), maxFrames, memory);
        if (walked is { } done)
        {
            FastWalks++;
            RememberExtent(thread, regs, done.Outermost);
        }
        else if (memory != _sealed)
        {
            Count(_walker.Refusal ?? "unknown");
        }
        return walked;
    }

    /// <summary>Whether a word of a held thread's stack is an address in managed code (a native leaf's caller, looked for).</summary>
    public bool IsManagedCode(ulong address) => IsManagedCode(address, CodeLookup.HeldGuesses, _memory);

    public void NoteRefusal(string why) => Count(why);

    /// <summary>The last walk gave up at a return address in no known code (see <see cref="FastStackWalker.LeftKnownCode"/>).</summary>
    public bool LeftKnownCode => _walker.LeftKnownCode;

    /// <summary>After a DAC walk of a thread still stopped: what it shows about the runtime's frames is learned.</summary>
    public void Learn(ClrThread thread, List<RawFrame> dacFrames)
    {
        DacWalks++;
        _walker.ExplicitFrames.Learn(thread.Address, dacFrames, _memory);
    }

    /// <summary>Compares a fast walk with the DAC's of the same stop; writes the first difference.</summary>
    public void Compare(ClrThread thread, List<RawFrame> fast, List<RawFrame> dac)
    {
        Compared++;
        var n = Math.Max(fast.Count, dac.Count);
        for (var i = 0; i < n; i++)
        {
            var f = i < fast.Count ? fast[i] : default;
            var d = i < dac.Count ? dac[i] : default;
            if (f.Kind == d.Kind && f.Method?.MethodDesc == d.Method?.MethodDesc && f.FrameName == d.FrameName && f.StackPointer == d.StackPointer
                && (f.Kind != ClrStackFrameKind.ManagedMethod || f.InstructionPointer == d.InstructionPointer))
                continue;
            Differences++;
            _stopper.TryGetRegisters((int)_ids.Of(thread), out var regs);
            Console.Error.WriteLine($"walk difference, thread {thread.OSThreadId} at frame {i} (rip {regs.Rip:x} rsp {regs.Rsp:x} rbp {regs.Rbp:x}):");
            for (var j = 0; j < n; j++)
                Console.Error.WriteLine($"  {(j == i ? '>' : ' ')} fast {Describe(j < fast.Count ? fast[j] : null)} | dac {Describe(j < dac.Count ? dac[j] : null)}");
            return;
        }
    }

    static string Describe(RawFrame? frame) => frame is not { } f ? "-" :
        $"{f.Kind} {(f.Kind == ClrStackFrameKind.ManagedMethod ? f.Method?.Name : f.FrameName + (f.Method is null ? "" : ":" + f.Method.Name))} ip {f.InstructionPointer:x} sp {f.StackPointer:x}";
}
