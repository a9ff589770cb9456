using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>What the runtime says about the compiled code holding an address (SOS's DacpCodeHeaderData).</summary>
/// <param name="Kind">1: JIT-compiled; 2: precompiled (ReadyToRun).</param>
/// <param name="Size">The code's size, funclets included.</param>
[StructLayout(LayoutKind.Sequential)]
readonly record struct CodeHeader(ulong GCInfo, uint Kind, ulong MethodDesc, ulong Start, uint Size, ulong ColdStart, uint ColdSize, uint HotSize)
{
    public const uint Jitted = 1, ReadyToRun = 2;
}

/// <summary>
/// ISOSDacInterface::GetCodeHeaderData, which ClrMD holds but does not expose: the start, extent and MethodDesc of
/// the code an address is in, whatever code version it is (tier 0, OSR, tier 1, ReadyToRun). Like every DAC call it
/// must run after the DAC's caches were flushed since the target last ran.
/// <para>
/// It reads the code's GC info to tell its size, and the JIT writes the GC info last: asked about an address in code
/// the JIT is still writing on another thread, the DAC follows the null pointer and kills Snapper with SIGSEGV (it
/// cannot catch a fault of its own on Linux). A frame's return address is never there (a thread runs only finished
/// code), but a word of a stack scanned for a native leaf's caller, or of a running thread's copied stack, can be:
/// those are asked about only once <see cref="CodeMap"/> has seen that their code is finished, from
/// <see cref="PublishedCode"/> (which reads no GC info) and the code's own header.
/// </para>
/// </summary>
sealed unsafe class SosCodeHeaders
{
    // IUnknown's 3, then ISOSDacInterface's methods in sospriv.idl order: GetMethodDescData is the 18th,
    // GetMethodDescPtrFromIP the 19th, GetCodeHeaderData the 24th.
    const int GetMethodDescDataSlot = 20, GetMethodDescPtrFromIpSlot = 21, GetCodeHeaderDataSlot = 26;
    // Room for DacpMethodDescData (152 bytes on 64-bit today), which the DAC writes whole: a larger buffer costs nothing,
    // a smaller one would let a runtime with a longer struct write past it.
    const int MethodDescDataBytes = 512;
    // DacpMethodDescData's bHasNativeCode (a BOOL at 0) and NativeCodeAddr (after bIsDynamic and wSlotNumber, aligned).
    const int HasNativeCodeOffset = 0, NativeCodeOffset = 16;

    readonly nint _sos;

    SosCodeHeaders(nint sos) => _sos = sos;

    public static SosCodeHeaders? TryCreate(ClrRuntime runtime) =>
        DacInterfaces.Find(runtime, "SOSDac") is { } sos and not 0 ? new SosCodeHeaders(sos) : null;

    /// <returns>Null when the address is in no managed code the runtime knows.</returns>
    public CodeHeader? Find(ulong address)
    {
        CodeHeader header;
        var vtable = *(nint**)_sos;
        var hr = ((delegate* unmanaged<nint, ulong, CodeHeader*, int>)vtable[GetCodeHeaderDataSlot])(_sos, address, &header);
        return hr == 0 && header.Start != 0 && header.MethodDesc != 0 ? header : null;
    }

    /// <summary>
    /// The method whose code holds the address, and where the runtime's published code for it starts: of the code
    /// version holding the address when the runtime finds that one, else of another (a version still being compiled has
    /// no published code of its own, and the runtime may answer with its method's current one); Start is 0 when the method
    /// has no published code. Null when the address is in no method's code. Neither call reads GC info.
    /// </summary>
    public (ulong MethodDesc, ulong Start)? PublishedCode(ulong address)
    {
        var vtable = *(nint**)_sos;
        ulong methodDesc;
        if (((delegate* unmanaged<nint, ulong, ulong*, int>)vtable[GetMethodDescPtrFromIpSlot])(_sos, address, &methodDesc) != 0 || methodDesc == 0)
            return null;
        var data = stackalloc byte[MethodDescDataBytes];
        int needed;
        var hr = ((delegate* unmanaged<nint, ulong, ulong, byte*, int, void*, int*, int>)vtable[GetMethodDescDataSlot])(
            _sos, methodDesc, address, data, 0, null, &needed);
        var start = *(ulong*)(data + NativeCodeOffset);
        return (methodDesc, hr == 0 && *(uint*)(data + HasNativeCodeOffset) != 0 && start != ulong.MaxValue ? start : 0);
    }
}

/// <summary>
/// Where the addresses a walk asks <see cref="CodeMap"/> about come from, which decides what may be asked of the runtime
/// (see <see cref="SosCodeHeaders"/>).
/// </summary>
enum CodeLookup
{
    /// <summary>A held thread's frames, walked from its own registers: code it ran, so code the JIT had finished.</summary>
    HeldFrames,

    /// <summary>
    /// Words of a held thread's stack that may be return addresses (a native leaf's caller, and a walk from there): any
    /// of them can point into code the JIT is writing on another thread, so only published code is asked about.
    /// </summary>
    HeldGuesses,

    /// <summary>
    /// A running thread's copied stack: as <see cref="HeldGuesses"/>, and "not managed code" is not remembered either
    /// (code compiled since the DAC's caches were filled would be taken for native code).
    /// </summary>
    RunningCopy,
}
