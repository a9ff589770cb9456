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
/// must run while the target is stopped, after the DAC's caches were flushed since it last ran.
/// </summary>
sealed unsafe class SosCodeHeaders
{
    const int GetCodeHeaderDataSlot = 26; // IUnknown's 3, then ISOSDacInterface's 24th method (sospriv.idl)

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
}
