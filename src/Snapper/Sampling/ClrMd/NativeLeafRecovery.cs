using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Recovers the managed stack of a thread stopped in native code that managed code called without a transition
/// frame: an FCall (Math.Sqrt at tier 0 ends in libm), a JIT helper, memmove. Neither the DAC nor ClrMD unwinds
/// native frames, so such a walk yields no managed frame at all: half the samples of a CPU-bound demo thread were
/// lost that way. The first word above the stack pointer that is a return address into managed code (the runtime
/// itself confirms it) is where the native code was called from; the walk is redone from there, with the stack
/// pointer just past that return address.
/// <para>
/// Only for a thread stopped in user mode: a thread blocked in a syscall with no managed frame is a runtime thread
/// waiting in native code (the finalizer, the tiered compiler), and its stack may hold stale addresses.
/// </para>
/// </summary>
sealed class NativeLeafRecovery(ClrRuntime runtime, ProcessMemory memory, ThreadStopper stopper, PtraceDataReader reader, ExecutableRegions regions)
{
    const int ScanWords = 1024; // 8 KiB of stack: native leaf frames are small
    public const ulong NotInSyscall = ulong.MaxValue; // orig_rax is -1 when the thread was stopped in user mode

    readonly byte[] _stack = new byte[ScanWords * 8];

    /// <summary>
    /// Points the reader's context for <paramref name="tid"/> at the managed caller of the native code it is in.
    /// Returns the native module's name, or null when there is nothing to recover from.
    /// </summary>
    /// <param name="isManagedCode">Whether an address is in managed code; by default the DAC is asked, which also
    /// names the method of a precode stub (not code a frame can return into), so the fast walk's map is better.</param>
    public string? TryRedirect(uint tid, Func<ulong, bool>? isManagedCode = null)
    {
        if (FindCaller(tid, isManagedCode ?? (address => runtime.GetMethodByInstructionPointer(address) is not null)) is not { } found) return null;
        reader.OverrideContext(tid, found.Caller);
        return found.Module;
    }

    /// <summary>
    /// The registers of the managed caller of the native code <paramref name="tid"/> is in, and that code's module;
    /// null when the thread is not in user-mode native code or no return address into managed code is found.
    /// </summary>
    /// <param name="isManagedCode">Whether an address is in managed code (asked of the runtime, or of a map of it).</param>
    public (Native.UserRegs Caller, string Module)? FindCaller(uint tid, Func<ulong, bool> isManagedCode) =>
        MayApply(tid, out var regs) ? FindCaller(regs, isManagedCode, memory.Read, ScanWords * 8, unstopped: false, out _) : null;

    /// <summary>
    /// The same for a thread not stopped, from its saved registers and a copy of its stack of <paramref name="stackBytes"/>
    /// from the stack pointer up (see UnstoppedWalks). <paramref name="uncertain"/> is set when a word before the caller
    /// found (or any, when none is) may be a return address into code the map cannot place: a page newer than the list
    /// of mappings, or a method compiled since the runtime's data was read. Passed over, it made the next caller look like
    /// the thread's (SNAPPER_VERIFY_REUSE found Utf8Utility.TranscodeToUtf8 left out under memmove, RazorPageBase.
    /// WriteAttributeValue under a stub, a thread in the JIT left with no managed frame). Such a thread is stopped.
    /// </summary>
    public (Native.UserRegs Caller, string Module)? FindCaller(in Native.UserRegs registers, Func<ulong, bool> isManagedCode, FastWalk.IWalkMemory stack,
        ulong stackBytes, out bool uncertain)
    {
        uncertain = false;
        return registers.OrigRax == NotInSyscall
            ? FindCaller(registers, isManagedCode, stack.Read, (int)Math.Min(stackBytes, ScanWords * 8), unstopped: true, out uncertain)
            : null;
    }

    (Native.UserRegs Caller, string Module)? FindCaller(Native.UserRegs regs, Func<ulong, bool> isManagedCode, ReadMemory read, int scanBytes, bool unstopped,
        out bool uncertain)
    {
        uncertain = false;
        if (!regions.InNativeLibrary(regs.Rip) && isManagedCode(regs.Rip)) return null;
        var words = read(regs.Rsp, _stack.AsSpan(0, scanBytes / 8 * 8)) / 8;
        for (var i = 0; i < words; i++)
        {
            var word = BitConverter.ToUInt64(_stack, i * 8);
            // Only a word a call precedes can be a return address: the others (a pointer into heap memory committed since
            // the mappings were read) are passed over without reading the target's mappings again (5.7% of Snapper's CPU
            // on ShopService under load, up to 50 reads of 1,700 mappings a second).
            if (regions.MayBeNewCode(word) && CallSites.PrecededByCall(word, memory))
            {
                // A stopped thread's stack is the truth the others are checked against: know the new code now. A copy
                // of a thread that may run again cannot wait for that, and is refused.
                if (unstopped) uncertain = true;
                else regions.RefreshForNewCode();
            }
            if (!regions.MayBeManagedCodeInStack(word)) continue;
            if (!isManagedCode(word))
            {
                // Code the map cannot place: a stub's address, or a method compiled since the runtime's data was read.
                if (unstopped) uncertain = true;
                continue;
            }
            // A return address follows a call. Other words into managed code (a method's entry point a runtime thread
            // keeps, a JIT's pointer into code it compiled) are not callers: walked from, they led the DAC nowhere, 60-150
            // times in 20 s on ShopService (a thread in the JIT, whose walk ended in an address no code holds).
            if (!CallSites.PrecededByCall(word, memory)) continue;
            var slot = regs.Rsp + (ulong)i * 8;
            var caller = regs;
            caller.Rip = word;
            caller.Rsp = slot + 8;
            // A managed frame's rbp lies above its return address; an rbp below it belongs to the native frames,
            // whose prologue pushed the managed rbp just under the return address.
            if (caller.Rbp <= slot && i > 0)
                caller.Rbp = BitConverter.ToUInt64(_stack, (i - 1) * 8);
            return (caller, regions.ModuleOf(regs.Rip) ?? "unknown");
        }
        return null;
    }

    delegate int ReadMemory(ulong address, Span<byte> buffer);

    /// <summary>Whether the thread was stopped in user mode, where there can be something to recover.</summary>
    public bool MayApply(uint tid) => MayApply(tid, out _);

    bool MayApply(uint tid, out Native.UserRegs regs) => stopper.TryGetRegisters((int)tid, out regs) && regs.OrigRax == NotInSyscall;

    public void Clear(uint tid) => reader.ClearOverride(tid);

    /// <summary>Where the stopped thread is executing (not where its walk was redirected to); 0 when not known.</summary>
    public ulong InstructionPointer(uint tid) => stopper.TryGetRegisters((int)tid, out var regs) ? regs.Rip : 0;
}
