using System.Buffers.Binary;
using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;
using Snapper.Store;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Names the holder of the lock each blocked thread is entering (see <see cref="LockFrames"/>), snapshot after snapshot,
/// from the target's memory.
/// <para>
/// <b>Which lock.</b> When a waiter is walked, the stack between its stack pointer and its caller's frame (the lock
/// methods' own frames and the native ones under them) holds the lock's object, handed down to the wait: the first word
/// there that is a Monitor's object (its header names a sync block the runtime says holds it, or a thin lock) or a
/// System.Threading.Lock is that lock. Bounded by the caller's frame, a thread that holds one lock while it waits for
/// another is not taken for waiting on its own. Where the object lay relative to the caller's frame is learned per
/// place in the lock's code, so the next waiter there is checked with one read instead of a scan.
/// </para>
/// <para>
/// <b>Following it.</b> A waiter asleep in its wait keeps its stack, and Snapper its walk (see <see cref="StackReuse"/>):
/// the word where the object was found is read again at each snapshot (a collection that moves the object rewrites it,
/// and the lock stays the same lock). Only threads entering a lock cost anything: a few words read each.
/// </para>
/// <para>
/// <b>The holder.</b> A System.Threading.Lock names its holder's OS thread id in its owner field. A Monitor's holder is in
/// the sync block its object's header indexes, asked of the runtime (the DAC's sync-block entry, with its lock state and
/// waiter count) once per lock and snapshot, after a flush of the DAC's own cache only. Reading the sync block's memory
/// directly would need its layout, which changes between runtimes (.NET 10 keeps the holder's OS thread id and leaves it
/// behind on release; only the lock state tells a free lock). A thin lock (held, not yet contended into a sync block)
/// names its holder's thin-lock id, asked of the DAC once per id.
/// </para>
/// In a sampled capture the holders are read right after the snapshot's walks, while the target runs again: a holder
/// that let go meanwhile may show as the next holder or as none. <c>snapper dump</c> reads them while every thread is held.
/// </summary>
sealed class LockHolders(ClrRuntime runtime, ProcessMemory memory, Action ensureDacFresh, Func<ulong, int?> tidOfThread, Func<uint, int?> tidOfLockOwnerId)
{
    const int MaxScanBytes = 16 * 1024;
    // The object header, the 4 bytes before an object's MethodTable pointer (CoreCLR's syncblk.h): a sync block's index,
    // a hash code, or a thin lock (the holder's thin-lock thread id in the low bits).
    const uint HashOrSyncIndexBit = 0x08000000, HashCodeBit = 0x04000000, SyncIndexMask = 0x03FFFFFF, ThinLockThreadMask = 0xFFFF;
    const string LockTypeName = "System.Threading.Lock";

    sealed record Waiter(object StackKey, LockKind Kind, string TypeName, ulong Slot, ulong Object, ulong Identity);



    readonly SosSyncBlocks? _sos = SosSyncBlocks.TryCreate(runtime);
    readonly Dictionary<int, Waiter> _waiters = new();
    readonly Dictionary<(LockKind Kind, ulong LockFrameIp), ulong> _slotBelowBound = new();
    readonly Dictionary<uint, SyncBlockData?> _entriesNow = new(); // this snapshot's, by sync block index
    bool _dacFreshForLocks; // see EntryNow
    readonly Dictionary<uint, int?> _thinLockHolders = new();
    readonly Dictionary<ulong, ulong> _identities = new(); // where a lock's object is now -> where it was first seen
    readonly Dictionary<ulong, string?> _typeNames = new(); // by MethodTable; null: not one
    const int MaxTypesKnown = 4096;
    readonly Dictionary<int, LockWait> _found = new();
    readonly byte[] _scan = new byte[MaxScanBytes];
    ulong _lockMethodTable;
    int _lockOwnerOffset = -1;

    /// <summary>
    /// The lock each waiting thread of a snapshot is entering, and its holder now, by OS thread id.
    /// </summary>
    /// <param name="threads">Every thread of the snapshot, with what stands for its stack: the same object while the stack is
    /// the one walked before (a reused walk), so that a waiter found then is followed without a walk.</param>
    /// <param name="walked">The threads walked in this snapshot, with the stack pointer each walk began at (0: unknown).</param>
    public IReadOnlyDictionary<int, LockWait> Find(IReadOnlyList<(int Tid, object StackKey)> threads, IReadOnlyDictionary<int, (RawThread Raw, ulong Sp)> walked)
    {
        _found.Clear();
        _entriesNow.Clear();
        _dacFreshForLocks = false;
        foreach (var (tid, stackKey) in threads)
        {
            if (!_waiters.TryGetValue(tid, out var waiter) || !ReferenceEquals(waiter.StackKey, stackKey))
            {
                waiter = walked.TryGetValue(tid, out var walk) && LockFrames.Of(walk.Raw) is { } entering && walk.Sp != 0
                    ? FindLock(stackKey, entering, walk.Sp)
                    : null;
                if (waiter is null)
                {
                    _waiters.Remove(tid);
                    continue;
                }
            }
            // A waiter whose word no longer holds a lock's object is kept all the same: its stack is still the one it was
            // found in (else it would have been walked again), so the thread has not moved, and the read fell in a moment
            // when a collection was moving the object.
            _waiters[tid] = waiter;
            if (Follow(waiter) is not { } followed) continue;
            _waiters[tid] = followed.Waiter;
            _found[tid] = followed.Wait;
        }
        return _found;
    }

    public void Retain(HashSet<int> live) => _waiters.KeepOnly(live);

    /// <summary>The lock object in a waiter's stack: at the place learned for its lock code, else by a scan.</summary>
    Waiter? FindLock(object stackKey, LockFrames.Entering entering, ulong sp)
    {
        if (entering.Bound <= sp) return null;
        var place = (entering.Kind, entering.LockFrameIp);
        if (_slotBelowBound.TryGetValue(place, out var below) && entering.Bound - below >= sp
            && ReadWord(entering.Bound - below) is { } learned && IsLock(entering.Kind, learned))
            return NewWaiter(stackKey, entering.Kind, entering.Bound - below, learned);
        var length = (int)Math.Min(entering.Bound - sp, MaxScanBytes) / 8 * 8;
        var read = memory.ReadUncached(sp, _scan.AsSpan(0, length)) / 8 * 8;
        for (var offset = 0; offset < read; offset += 8)
        {
            var word = BinaryPrimitives.ReadUInt64LittleEndian(_scan.AsSpan(offset));
            if (!MayBeObject(word, sp, entering.Bound) || !IsLock(entering.Kind, word)) continue;
            var slot = sp + (ulong)offset;
            _slotBelowBound[place] = entering.Bound - slot;
            return NewWaiter(stackKey, entering.Kind, slot, word);
        }
        return null;
    }

    /// <summary>An object pointer, not a small number or the stack itself (GC heap objects are 8-byte aligned).</summary>
    static bool MayBeObject(ulong word, ulong sp, ulong bound) =>
        word >= 0x10000 && word < 0x8000_0000_0000 && (word & 7) == 0 && (word < sp || word > bound + MaxScanBytes);

    Waiter NewWaiter(object stackKey, LockKind kind, ulong slot, ulong obj)
    {
        var identity = _identities.TryGetValue(obj, out var first) ? first : _identities[obj] = obj;
        return new Waiter(stackKey, kind, kind == LockKind.Lock ? LockTypeName : TypeNameOf(obj) ?? "object", slot, obj, identity);
    }

    /// <summary>The waiter's lock now, and its holder; null when the word no longer holds the lock's object.</summary>
    (Waiter Waiter, LockWait Wait)? Follow(Waiter waiter)
    {
        if (ReadWord(waiter.Slot) is not { } obj) return null;
        if (obj != waiter.Object)
        {
            // Moved by a collection (the word is the thread's reference to it): the same lock, from its new place.
            if (!IsLock(waiter.Kind, obj)) return null;
            _identities[obj] = waiter.Identity;
            waiter = waiter with { Object = obj };
        }
        var (owner, waiters) = waiter.Kind == LockKind.Lock ? (LockHolder(obj), null) : MonitorHolder(obj);
        return (waiter, new LockWait(waiter.Kind, waiter.TypeName, waiter.Identity, owner, waiters));
    }

    bool IsLock(LockKind kind, ulong obj) => kind == LockKind.Lock ? IsLockObject(obj) : IsMonitorHeld(obj);

    /// <summary>
    /// A Monitor's object: held by a thin lock, or held through its sync block: as its holder word says, for a sync block
    /// already known with the layout learned, else as the runtime says.
    /// </summary>
    bool IsMonitorHeld(ulong obj)
    {
        if (ReadHeader(obj) is not { } header) return false;
        // A thin lock's header is a few bits any word of native memory may have: the object must have a type too.
        if ((header & HashOrSyncIndexBit) == 0) return (header & ThinLockThreadMask) != 0 && TypeNameOf(obj) is not null;
        if ((header & HashCodeBit) != 0) return false;
        return EntryNow(header & SyncIndexMask) is { } entry && entry.Object == obj && entry.MonitorHeld != 0;
    }

    bool IsLockObject(ulong obj)
    {
        if (_lockMethodTable == 0) LearnLockType();
        return _lockMethodTable != 0 && ReadWord(obj) == _lockMethodTable;
    }

    void LearnLockType()
    {
        ensureDacFresh();
        try
        {
            if (runtime.BaseClassLibrary.GetTypeByName(LockTypeName) is not { } type) return; // not loaded yet: asked again next time
            _lockOwnerOffset = type.GetFieldByName("_owningThreadId")?.Offset ?? -1;
            _lockMethodTable = type.MethodTable;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ClrDiagnosticsException)
        {
        }
    }

    /// <summary>A Lock's owner field: its holder's OS thread id on Linux (.NET 9 and 10), 0 when free.</summary>
    int? LockHolder(ulong obj)
    {
        if (_lockOwnerOffset < 0) return null;
        Span<byte> owner = stackalloc byte[4];
        // An object's fields begin after its MethodTable pointer.
        if (memory.ReadUncached(obj + 8 + (ulong)_lockOwnerOffset, owner) < 4) return null;
        var id = BinaryPrimitives.ReadUInt32LittleEndian(owner);
        return id == 0 ? null : tidOfLockOwnerId(id);
    }

    (int? Owner, int? Waiters) MonitorHolder(ulong obj)
    {
        if (ReadHeader(obj) is not { } header) return (null, null);
        if ((header & HashOrSyncIndexBit) == 0)
            return ((header & ThinLockThreadMask) is var thin and not 0 ? ThinLockHolder(thin) : null, null);
        if ((header & HashCodeBit) != 0) return (null, null);
        if (EntryNow(header & SyncIndexMask) is not { } entry || entry.Object != obj) return (null, null);
        // Held when the state is odd: a release leaves the holder behind, and only the state tells a free lock.
        var holder = entry.HoldingThread != 0 && (entry.MonitorHeld & 1) != 0 ? tidOfThread(entry.HoldingThread) : null;
        return (holder, entry.Waiters);
    }

    /// <summary>
    /// The runtime's entry for a sync block as it is now: asked once per snapshot (every waiter of a lock shares it), after
    /// the DAC's cache and the pages under it were dropped (the target ran since they were read).
    /// </summary>
    SyncBlockData? EntryNow(uint index)
    {
        if (_sos is null || index == 0) return null;
        if (_entriesNow.TryGetValue(index, out var known)) return known;
        if (!_dacFreshForLocks)
        {
            memory.Flush();
            _sos.FlushDac();
            _dacFreshForLocks = true;
        }
        return _entriesNow[index] = _sos.Entry(index);
    }

    int? ThinLockHolder(uint thinLockId)
    {
        if (_thinLockHolders.TryGetValue(thinLockId, out var known)) return known;
        if (_sos is null) return null;
        ensureDacFresh();
        var thread = _sos.ThreadOfThinLock(thinLockId);
        var tid = thread == 0 ? null : tidOfThread(thread);
        if (tid is not null) _thinLockHolders[thinLockId] = tid; // an id is a thread's for its life; an unknown one is asked again
        return tid;
    }

    /// <summary>The type of the object at <paramref name="obj"/>; null when its MethodTable word names no type (not an object).</summary>
    string? TypeNameOf(ulong obj)
    {
        if (ReadWord(obj) is not { } methodTable || methodTable == 0 || (methodTable & 7) != 0) return null;
        if (_typeNames.TryGetValue(methodTable, out var name)) return name;
        if (_typeNames.Count >= MaxTypesKnown) _typeNames.Clear();
        ensureDacFresh();
        try
        {
            name = runtime.GetTypeByMethodTable(methodTable)?.Name;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ClrDiagnosticsException)
        {
            name = null;
        }
        return _typeNames[methodTable] = name;
    }

    uint? ReadHeader(ulong obj)
    {
        Span<byte> header = stackalloc byte[4];
        return memory.ReadUncached(obj - 4, header) == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(header) : null;
    }

    ulong? ReadWord(ulong address)
    {
        Span<byte> word = stackalloc byte[8];
        return memory.ReadUncached(address, word) == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(word) : null;
    }
}
