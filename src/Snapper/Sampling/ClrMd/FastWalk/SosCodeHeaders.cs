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
/// Asked only of code the runtime has finished compiling. The addresses asked about are not all return addresses of
/// frames: words of a stack scanned for a native leaf's caller, and walks of a running thread's copied stack, can point
/// into code the JIT is writing on another thread at that moment. Its header is there already, its GC info not yet,
/// and the DAC, which reads the GC info to tell the code's size, follows the null pointer and kills Snapper with SIGSEGV
/// (it cannot catch a fault of its own on Linux): 3 captures in 25 of a freshly started ShopService under wrk, each core
/// dump's top frames in the DAC's GC-info bit reader, called from here. So the method the address is in, and the code
/// version holding it, are asked first (neither reads GC info), and the header only once that version is published
/// (its native code set, which the runtime does when compiling is done).
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

    /// <summary>Addresses asked about that were in no published code version of their method (SNAPPER_DEBUG).</summary>
    public long Unpublished { get; private set; }

    /// <param name="onlyPublished">The address may not be a frame's (see <see cref="CodeLookup"/>): asked about only if the
    /// code version holding it is published.</param>
    /// <param name="unpublished">Set when the address is in a method's code the runtime has not published yet.</param>
    /// <returns>Null when the address is in no managed code the runtime knows, or (asked only of published code) in code
    /// not yet published.</returns>
    public CodeHeader? Find(ulong address, bool onlyPublished, out bool unpublished)
    {
        unpublished = false;
        var vtable = *(nint**)_sos;
        if (onlyPublished && !IsPublished(vtable, address, out unpublished)) return null;
        CodeHeader header;
        var hr = ((delegate* unmanaged<nint, ulong, CodeHeader*, int>)vtable[GetCodeHeaderDataSlot])(_sos, address, &header);
        return hr == 0 && header.Start != 0 && header.MethodDesc != 0 ? header : null;
    }

    /// <summary>
    /// Whether the address is in a method's code version the runtime has published (its native code set). Code the
    /// runtime does not publish that way (IL stubs, called through a precode) is not asked about either: a frame's
    /// return address finds it (<see cref="CodeLookup.HeldFrames"/>).
    /// </summary>
    bool IsPublished(nint* vtable, ulong address, out bool unpublished)
    {
        unpublished = false;
        ulong methodDesc;
        if (((delegate* unmanaged<nint, ulong, ulong*, int>)vtable[GetMethodDescPtrFromIpSlot])(_sos, address, &methodDesc) != 0 || methodDesc == 0)
            return false;
        var data = stackalloc byte[MethodDescDataBytes];
        int needed;
        var hr = ((delegate* unmanaged<nint, ulong, ulong, byte*, int, void*, int*, int>)vtable[GetMethodDescDataSlot])(
            _sos, methodDesc, address, data, 0, null, &needed);
        var nativeCode = *(ulong*)(data + NativeCodeOffset);
        if (hr == 0 && *(uint*)(data + HasNativeCodeOffset) != 0 && nativeCode != 0 && nativeCode != ulong.MaxValue && nativeCode <= address) return true;
        unpublished = true;
        Unpublished++;
        return false;
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
