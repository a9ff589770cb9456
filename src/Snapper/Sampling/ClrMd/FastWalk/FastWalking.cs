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

    public long FastWalks { get; private set; }
    public long DacWalks { get; private set; }
    public long Differences { get; private set; }
    string? _refusal;

    FastWalking(FastStackWalker walker, ThreadStopper stopper, WalkMemory memory)
    {
        _walker = walker;
        _stopper = stopper;
        _memory = memory;
    }

    /// <param name="ensureDacFresh">Flushes the DAC's caches, once a snapshot, before its first use.</param>
    public static FastWalking? TryCreate(ClrRuntime runtime, ThreadStopper stopper, ProcessMemory memory, ExecutableRegions regions, Action ensureDacFresh)
    {
        if (Environment.GetEnvironmentVariable("SNAPPER_FAST_WALK") == "0") return null;
        if (SosCodeHeaders.TryCreate(runtime) is not { } sos) return null;
        return new FastWalking(new FastStackWalker(new CodeMap(runtime, sos, regions, ensureDacFresh), new ExplicitFrames()), stopper, new WalkMemory(memory));
    }

    public static readonly System.Diagnostics.Stopwatch FastTime = new(), DacTime = new(), FlushTime = new(), MissTime = new();
    public static readonly Dictionary<string, int> Refusals = new();
    public static long Flushes, Misses, FastReads, DacReads;

    public (List<RawFrame> Frames, ulong Outermost)? TryWalk(ClrThread thread, int maxFrames) =>
        _stopper.TryGetRegisters((int)thread.OSThreadId, out var regs) ? TryWalkFrom(thread, regs, maxFrames) : null;

    /// <summary>A walk from given registers (a managed caller found below native code) instead of the thread's own.</summary>
    public (List<RawFrame> Frames, ulong Outermost)? TryWalkFrom(ClrThread thread, Native.UserRegs regs, int maxFrames)
    {
        var walked = _walker.TryWalk(thread.Address, new UnwindContext(regs.Rip, regs.Rsp, regs.Rbp), maxFrames, _memory);
        if (walked is not null) FastWalks++;
        else
        {
            _refusal = _walker.Refusal;
            var key = System.Text.RegularExpressions.Regex.Replace(_refusal ?? "?", "[0-9a-f]{8,}", "X");
            Refusals[key] = Refusals.GetValueOrDefault(key) + 1;
        }
        return walked;
    }

    public string? LastRefusal => _refusal;

    public bool IsManagedCode(ulong address) => _walker.IsManagedCode(address, _memory);

    public void NoteRefusal(string why)
    {
        _refusal = why;
        Refusals[why] = Refusals.GetValueOrDefault(why) + 1;
    }

    /// <summary>After a DAC walk of a thread still stopped: what it shows about the runtime's frames is learned.</summary>
    public void Learn(ClrThread thread, List<RawFrame> dacFrames)
    {
        DacWalks++;
        if (Verify && _refusal is not null)
            Console.Error.WriteLine($"fast walk refused, thread {thread.OSThreadId}: {_refusal}; the DAC's: {string.Join(" < ", dacFrames.Select(f => Describe(f)))}");
        _refusal = null;
        _walker.ExplicitFrames.Learn(thread.Address, dacFrames, _memory);
    }

    /// <summary>Compares a fast walk with the DAC's of the same stop; writes the first difference.</summary>
    public void Compare(ClrThread thread, List<RawFrame> fast, List<RawFrame> dac)
    {
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
