using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// IL offsets in code that ClrMD's IL map does not cover. ClrMD asks the DAC for a method's map without saying which
/// compiled version it wants (IXCLRDataMethodInstance::GetILAddressMap maps the method's first code, tier 0), so a
/// frame in code compiled later (a loop replaced on the stack, tier 1: where a Release build spends its time) found
/// no line. The DAC's GetILOffsetsByAddress takes the address and decodes the debug info of the very code that holds
/// it. ClrMD does not expose it: this finds, by reflection, the IXCLRDataProcess interface ClrMD already holds (the
/// version Snapper pins), and calls it through its vtable. Where that fails, such frames have no line, as before.
/// Like every DAC call here, it must run while the target is stopped (see <see cref="ILOffsets"/>).
/// </summary>
sealed unsafe class CodeVersionILOffsets
{
    // Vtable slots, counting IUnknown's three: IXCLRDataProcess and IXCLRDataMethodInstance as declared in xclrdata.idl.
    const int StartEnumMethodInstancesByAddress = 27, EnumMethodInstanceByAddress = 28, EndEnumMethodInstancesByAddress = 29;
    const int GetILOffsetsByAddress = 12, Release = 2;

    readonly nint _process;

    CodeVersionILOffsets(nint process) => _process = process;

    /// <summary>Null when ClrMD's DAC interface cannot be found (another ClrMD version).</summary>
    public static CodeVersionILOffsets? TryCreate(ClrRuntime runtime) =>
        DacInterfaces.Find(runtime, "ClrDataProcess") is { } process and not 0 ? new CodeVersionILOffsets(process) : null;

    /// <summary>The IL offset of the statement the code at <paramref name="address"/> belongs to, or -1.</summary>
    public int Find(ulong address)
    {
        var vtable = *(nint**)_process;
        ulong handle;
        if (((delegate* unmanaged<nint, ulong, nint, ulong*, int>)vtable[StartEnumMethodInstancesByAddress])(_process, address, 0, &handle) != 0)
            return -1;
        var found = -1;
        const uint capacity = 4;
        var offsets = stackalloc uint[(int)capacity];
        try
        {
            nint method;
            while (found < 0 && ((delegate* unmanaged<nint, ulong*, nint*, int>)vtable[EnumMethodInstanceByAddress])(_process, &handle, &method) == 0)
            {
                var methodVtable = *(nint**)method;
                uint needed;
                if (((delegate* unmanaged<nint, ulong, uint, uint*, uint*, int>)methodVtable[GetILOffsetsByAddress])(method, address, capacity, &needed, offsets) == 0)
                    for (var i = 0; i < Math.Min(needed, capacity) && found < 0; i++)
                        if ((int)offsets[i] >= 0) found = (int)offsets[i]; // the negative ones: no mapping, prolog, epilog
                ((delegate* unmanaged<nint, uint>)methodVtable[Release])(method);
            }
        }
        finally
        {
            ((delegate* unmanaged<nint, ulong, int>)vtable[EndEnumMethodInstancesByAddress])(_process, handle);
        }
        return found;
    }
}
