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

    /// <summary>The stopped threads' stacks as copied for this snapshot's walks.</summary>
    public IWalkMemory Memory => _memory;

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
        return $"walk verification: {Compared} threads walked both ways, {Differences} differences; {FastWalks} walked fast, {DacWalks} by the DAC"
            + (reasons.Length > 0 ? $" ({reasons})" : "");
    }

    FastWalking(FastStackWalker walker, ThreadStopper stopper, WalkMemory memory)
    {
        _walker = walker;
        _stopper = stopper;
        _memory = memory;
    }

    /// <param name="ensureDacFresh">Flushes the DAC's caches, once a snapshot, before its first use.</param>
    public static FastWalking? TryCreate(ClrRuntime runtime, ThreadStopper stopper, ProcessMemory memory, ExecutableRegions regions, Action ensureDacFresh)
    {
        if (SosCodeHeaders.TryCreate(runtime) is not { } sos) return null;
        return new FastWalking(new FastStackWalker(new CodeMap(runtime, sos, regions, ensureDacFresh), new ExplicitFrames()), stopper, new WalkMemory(memory));
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
        _stackRanges.Clear();
        foreach (var thread in threads)
        {
            if (!_stopper.TryGetRegisters((int)thread.OSThreadId, out var regs) || regs.Rsp == 0) continue;
            var extent = (ulong)_stackExtents.GetValueOrDefault((int)thread.OSThreadId, DefaultStackCopy);
            if (thread.StackBase > regs.Rsp) extent = Math.Min(extent, thread.StackBase - regs.Rsp);
            else if (thread.StackBase != 0) continue;
            if (extent > 0) _stackRanges.Add((regs.Rsp, (int)extent));
        }
        _memory.CopyStacks(_stackRanges);
    }

    void RememberExtent(ClrThread thread, Native.UserRegs regs, ulong outermost)
    {
        if (outermost <= regs.Rsp) return;
        _stackExtents[(int)thread.OSThreadId] = (int)Math.Min(outermost - regs.Rsp + StackCopySlack, MaxStackCopy);
    }

    /// <summary>Forgets what belonged to threads that are gone.</summary>
    public void Retain(HashSet<int> live) => _stackExtents.KeepOnly(live);

    public (List<RawFrame> Frames, ulong Outermost)? TryWalk(ClrThread thread, int maxFrames) =>
        _stopper.TryGetRegisters((int)thread.OSThreadId, out var regs) ? TryWalkFrom(thread, regs, maxFrames) : null;

    /// <summary>A walk from given registers (a managed caller found below native code) instead of the thread's own.</summary>
    public (List<RawFrame> Frames, ulong Outermost)? TryWalkFrom(ClrThread thread, Native.UserRegs regs, int maxFrames)
    {
        var walked = _walker.TryWalk(thread.Address, new UnwindContext(regs.Rip, regs.Rsp, regs.Rbp), maxFrames, _memory);
        if (walked is { } done)
        {
            FastWalks++;
            RememberExtent(thread, regs, done.Outermost);
        }
        else
        {
            Count(_walker.Refusal ?? "unknown");
        }
        return walked;
    }

    public bool IsManagedCode(ulong address) => _walker.IsManagedCode(address, _memory);

    public void NoteRefusal(string why) => Count(why);

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
            _stopper.TryGetRegisters((int)thread.OSThreadId, out var regs);
            Console.Error.WriteLine($"walk difference, thread {thread.OSThreadId} at frame {i} (rip {regs.Rip:x} rsp {regs.Rsp:x} rbp {regs.Rbp:x}):");
            for (var j = 0; j < n; j++)
                Console.Error.WriteLine($"  {(j == i ? '>' : ' ')} fast {Describe(j < fast.Count ? fast[j] : null)} | dac {Describe(j < dac.Count ? dac[j] : null)}");
            return;
        }
    }

    static string Describe(RawFrame? frame) => frame is not { } f ? "-" :
        $"{f.Kind} {(f.Kind == ClrStackFrameKind.ManagedMethod ? f.Method?.Name : f.FrameName + (f.Method is null ? "" : ":" + f.Method.Name))} ip {f.InstructionPointer:x} sp {f.StackPointer:x}";
}
