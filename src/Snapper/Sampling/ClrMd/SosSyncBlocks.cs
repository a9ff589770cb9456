using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>What the runtime says of one entry of its sync-block table (SOS's DacpSyncBlockData).</summary>
/// <param name="MonitorHeld">The Monitor's lock state: 0 when free; odd when held, plus two for each waiter.</param>
/// <param name="HoldingThread">The holder's runtime Thread object; 0 when free, or held but not yet written (a hand-over).</param>
[StructLayout(LayoutKind.Sequential)]
readonly record struct SyncBlockData(ulong Object, int Free, ulong SyncBlock, uint ComFlags, uint MonitorHeld, uint Recursion, ulong HoldingThread,
    uint AdditionalThreadCount, ulong AppDomain, uint SyncBlockCount)
{
    /// <summary>How many threads the runtime counts as waiting for the Monitor (ClrMD's reading of the lock state).</summary>
    public int Waiters => MonitorHeld > 1 ? (int)((MonitorHeld - 1) / 2) : 0;
}

/// <summary>
/// ISOSDacInterface's sync-block calls, which ClrMD holds but does not expose one by one (it only enumerates the whole
/// table): one entry by its index, and the thread a thin lock's id names. Like every DAC call, they must run after the
/// DAC's caches were flushed since the target last ran.
/// </summary>
sealed unsafe class SosSyncBlocks
{
    // IUnknown's 3, then ISOSDacInterface's methods in sospriv.idl order: GetThreadFromThinlockID is the 16th,
    // GetSyncBlockData the 57th (GetCodeHeaderData, the 24th, is slot 26: see SosCodeHeaders).
    const int GetThreadFromThinlockIdSlot = 18, GetSyncBlockDataSlot = 59;

    readonly nint _sos;

    SosSyncBlocks(nint sos) => _sos = sos;

    public static SosSyncBlocks? TryCreate(ClrRuntime runtime) =>
        DacInterfaces.Find(runtime, "SOSDac") is { } sos and not 0 ? new SosSyncBlocks(sos) : null;

    /// <param name="index">The index an object's header holds (1 and up).</param>
    public SyncBlockData? Entry(uint index)
    {
        SyncBlockData data;
        var vtable = *(nint**)_sos;
        var hr = ((delegate* unmanaged<nint, uint, SyncBlockData*, int>)vtable[GetSyncBlockDataSlot])(_sos, index, &data);
        return hr == 0 && data.Free == 0 && data.Object != 0 ? data : null;
    }

    /// <returns>The runtime Thread object a thin lock's thread id names, or 0.</returns>
    public ulong ThreadOfThinLock(uint id)
    {
        ulong thread;
        var vtable = *(nint**)_sos;
        var hr = ((delegate* unmanaged<nint, uint, ulong*, int>)vtable[GetThreadFromThinlockIdSlot])(_sos, id, &thread);
        return hr == 0 ? thread : 0;
    }
}
