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
/// waiter count) when the sync block's memory changed since the runtime last described it, or read from that memory by
/// the layout learned from the runtime's descriptions (<see cref="SyncBlockLayout"/>; checked against the DAC one changed
/// read in <see cref="CheckLayoutEvery"/>). A thin lock (held, not yet contended into a sync block) names its holder's
/// thin-lock id, asked of the DAC once per id.
/// </para>
/// In a sampled capture the holders are read right after the snapshot's walks, while the target runs again: a holder
/// that let go meanwhile may show as the next holder or as none. <c>snapper dump</c> reads them while every thread is held.
/// </summary>
sealed class LockHolders(ClrRuntime runtime, ProcessMemory memory, Action ensureDacFresh, Func<ulong, int?> tidOfThread, Func<uint, int?> tidOfLockOwnerId)
{
    /// <summary>
    /// SNAPPER_LOCK_HOLDERS=off leaves holders out of sampled captures (<c>snapper dump</c> always names them). They were
    /// off by default for a while: two full test runs with them on ended with Snapper killed by SIGSEGV sampling a
    /// service. The core dumps placed that crash elsewhere (the DAC asked about code the JIT was still writing, see
    /// SosCodeHeaders), and the DAC is now asked here only about real objects (see <see cref="IsObject"/>).
    /// </summary>
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("SNAPPER_LOCK_HOLDERS") != "off";

    const int MaxScanBytes = 16 * 1024;
    // The object header, the 4 bytes before an object's MethodTable pointer (CoreCLR's syncblk.h): a sync block's index,
    // a hash code, or a thin lock: the holder's thin-lock id in the low 16 bits, its recursion count above them (so .NET 10
    // lays it out; ClrMD reads .NET 8 and earlier with 10 bits of id, and the count from bit 10). Internal for the tests
    // that check it (RuntimeObjectAssumptionsTests).
    internal const uint HashOrSyncIndexBit = 0x08000000, HashCodeBit = 0x04000000, SyncIndexMask = 0x03FFFFFF, ThinLockThreadMask = 0xFFFF;
    const string LockTypeName = "System.Threading.Lock";

    sealed record Waiter(object StackKey, LockKind Kind, string TypeName, ulong Slot, ulong Object, ulong Identity);



    readonly SosSyncBlocks? _sos = SosSyncBlocks.TryCreate(runtime);
    readonly MethodTableCheck _methodTables = new(memory);
    readonly Dictionary<int, Waiter> _waiters = new();
    readonly Dictionary<(LockKind Kind, ulong LockFrameIp), ulong> _slotBelowBound = new();
    readonly Dictionary<uint, SyncBlockData?> _entriesNow = new(); // this snapshot's, by sync block index
    bool _pagesFlushed; // see EntryNow
    readonly Dictionary<uint, int?> _thinLockHolders = new();
    readonly Dictionary<ulong, ulong> _identities = new(); // where a lock's object is now -> where it was first seen
    readonly Dictionary<(uint SyncIndex, string Type), ulong> _monitorIdentities = new();
    readonly Dictionary<ulong, string?> _typeNames = new(); // by MethodTable; null: not one
    const int MaxTypesKnown = 4096;
    readonly Dictionary<int, LockWait> _found = new();
    readonly List<int> _following = new(); // this snapshot's waiters
    readonly HashSet<int> _unread = new(); // those whose lock could not be read this time
    readonly Dictionary<ulong, ObjectReads> _objects = new(); // their locks' objects
    readonly List<ulong> _objectList = new();
    readonly BatchedReads _reads = new(memory);
    readonly Dictionary<ulong, MonitorSeen> _monitorsSeen = new(); // by object: the runtime's last answer, and the memory it was for
    const int SyncBlockBytes = SyncBlockLayout.Bytes, MaxMonitorsSeen = 1024;
    // One read of a changed sync block in this many asks the DAC instead of the layout learned, and checks the layout.
    const int CheckLayoutEvery = 16;
    readonly SyncBlockLayout _layout = new();
    long _changedReads, _readByLayout;

    /// <summary>A Monitor's sync block as the runtime last described it, and that block's memory then (null: not yet known).</summary>
    sealed record MonitorSeen(uint Index, SyncBlockData Entry, byte[]? Bytes);
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
        _pagesFlushed = false;
        _following.Clear();
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
            _following.Add(tid);
        }
        if (_following.Count > 0) FollowAll();
        return _found;
    }

    /// <summary>
    /// Reads where each waiter's lock is now (one system call for all), then each lock's header, owner field and sync
    /// block (one more), and names the holders.
    /// </summary>
    void FollowAll()
    {
        _reads.Clear();
        foreach (var tid in _following) _reads.Add(_waiters[tid].Slot, 8);
        _reads.Read();
        _objects.Clear();
        _objectList.Clear();
        _unread.Clear();
        for (var i = 0; i < _following.Count; i++)
        {
            var tid = _following[i];
            var waiter = _waiters[tid];
            if (_reads.Word(i) is not { } obj)
            {
                _unread.Add(tid);
                continue;
            }
            if (obj != waiter.Object)
            {
                // Moved by a collection (the word is the thread's reference to it): the same lock, from its new place.
                if (!IsLock(waiter.Kind, obj))
                {
                    _unread.Add(tid); // not named this time; another waiter of its old place must not lend it a lock
                    continue;
                }
                _identities[obj] = waiter.Identity;
                _waiters[tid] = waiter = waiter with { Object = obj };
            }
            if (_objects.TryAdd(obj, default)) _objectList.Add(obj);
        }
        _reads.Clear();
        foreach (var obj in _objectList) _objects[obj] = AddObjectReads(obj);
        _reads.Read();
        foreach (var tid in _following)
        {
            var waiter = _waiters[tid];
            if (_unread.Contains(tid) || !_objects.TryGetValue(waiter.Object, out var reads)) continue;
            var (owner, waiters) = waiter.Kind == LockKind.Lock ? (LockHolder(reads), null) : MonitorHolder(waiter, reads);
            if (owner == tid)
            {
                // The waiter took the lock between its stack's moment and this read: who held it at that moment is not
                // known (the one before, or nobody: a hand-over).
                _takenSince++;
                owner = null;
            }
            _found[tid] = new LockWait(waiter.Kind, waiter.TypeName, waiter.Identity, owner, waiters);
            _waits++;
        }
    }

    /// <summary>Where one lock's words are in <see cref="_reads"/>: its header and MethodTable, its owner field, its sync block (-1: none).</summary>
    readonly record struct ObjectReads(int Header, int Owner, int SyncBlock);

    ObjectReads AddObjectReads(ulong obj)
    {
        var header = _reads.Add(obj - 8, 16); // the header's 4 bytes end where the MethodTable pointer begins
        var owner = _lockOwnerOffset >= 0 ? _reads.Add(obj + 8 + (ulong)_lockOwnerOffset, 4) : -1; // fields follow the MethodTable
        var syncBlock = _monitorsSeen.TryGetValue(obj, out var seen) ? _reads.Add(seen.Entry.SyncBlock, SyncBlockBytes) : -1;
        return new ObjectReads(header, owner, syncBlock);
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

    /// <summary>
    /// A waiter of the lock at <paramref name="obj"/>. The lock is named by the address its object was first seen at: a
    /// Monitor's by its sync block (an object keeps its sync block for life, wherever a collection moves it), a Lock's by
    /// the moves its waiters saw.
    /// </summary>
    Waiter NewWaiter(object stackKey, LockKind kind, ulong slot, ulong obj)
    {
        var type = kind == LockKind.Lock ? LockTypeName : TypeNameOf(obj) ?? "object";
        ulong identity;
        if (kind == LockKind.Monitor && ReadHeader(obj) is { } header && (header & (HashOrSyncIndexBit | HashCodeBit)) == HashOrSyncIndexBit)
        {
            // A sync block freed with its object can be given to another: the type tells most such reuses apart.
            var key = (header & SyncIndexMask, type);
            identity = _monitorIdentities.TryGetValue(key, out var first) ? first : _monitorIdentities[key] = obj;
        }
        else identity = _identities.TryGetValue(obj, out var first) ? first : _identities[obj] = obj;
        return new Waiter(stackKey, kind, type, slot, obj, identity);
    }

    bool IsLock(LockKind kind, ulong obj) => kind == LockKind.Lock ? IsLockObject(obj) : IsMonitorHeld(obj);

    /// <summary>
    /// A Monitor's object: held by a thin lock, or held through its sync block: as the layout learned reads it, for a sync
    /// block met before, else as the runtime says (held, or free with waiters).
    /// </summary>
    bool IsMonitorHeld(ulong obj)
    {
        if (ReadHeader(obj) is not { } header) return false;
        if ((header & HashOrSyncIndexBit) == 0 ? (header & ThinLockThreadMask) == 0 : (header & HashCodeBit) != 0) return false;
        // A header's bits are what many words of native memory look like: the DAC is asked only of a real object's.
        if (!IsObject(obj)) return false;
        if ((header & HashOrSyncIndexBit) == 0) return true; // a thin lock
        var index = header & SyncIndexMask;
        // A lock met before, whose sync block the layout learned reads as held: no need to ask the DAC.
        if (_monitorsSeen.TryGetValue(obj, out var seen) && seen.Index == index)
        {
            Span<byte> block = stackalloc byte[SyncBlockBytes];
            if (memory.ReadUncached(seen.Entry.SyncBlock, block) == SyncBlockBytes && _layout.Read(block) is { Held: true }) return true;
        }
        return EntryNow(index) is { } entry && entry.Object == obj && entry.MonitorHeld != 0;
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
    int? LockHolder(ObjectReads reads)
    {
        if (reads.Owner < 0 || _reads.Bytes(reads.Owner) is not { Length: 4 } owner) return null;
        var id = BinaryPrimitives.ReadUInt32LittleEndian(owner);
        return id == 0 ? null : tidOfLockOwnerId(id);
    }

    /// <summary>
    /// A Monitor's holder and waiter count. Through its sync block, as the runtime describes it: asked again only when
    /// the sync block's memory changed since the runtime was last asked about it (the answer is a function of that memory),
    /// so a lock whose holder keeps it costs one read a snapshot.
    /// </summary>
    (int? Owner, int? Waiters) MonitorHolder(Waiter waiter, ObjectReads reads)
    {
        if (_reads.Bytes(reads.Header) is not { Length: 16 } words) return Unnamed("header unread");
        var header = BinaryPrimitives.ReadUInt32LittleEndian(words[4..]);
        var obj = waiter.Object;
        if ((header & HashOrSyncIndexBit) == 0)
            return (header & ThinLockThreadMask) is var thin and not 0 ? (ThinLockHolder(thin), null) : Unnamed("thin lock free");
        if ((header & HashCodeBit) != 0) return Unnamed("header holds a hash code");
        var index = header & SyncIndexMask;
        if (_monitorsSeen.TryGetValue(obj, out var seen) && seen.Index == index && reads.SyncBlock >= 0)
        {
            var block = _reads.Bytes(reads.SyncBlock);
            if (block.SequenceEqual(seen.Bytes)) return Described(seen.Entry);
            // Changed: read by the layout learned, the DAC asked now and then all the same to check it.
            if (++_changedReads % CheckLayoutEvery != 0 && _layout.Read(block) is { } read)
            {
                _readByLayout++;
                return FromLayout(read);
            }
        }
        if (EntryNow(index) is not { } entry) return Unnamed("no sync block entry");
        if (entry.Object != obj) return Unnamed("sync block of another object");
        RememberDescribed(obj, index, entry, reads.SyncBlock >= 0 && seen?.Entry.SyncBlock == entry.SyncBlock ? _reads.Bytes(reads.SyncBlock) : default);
        return Described(entry);
    }

    (int? Owner, int? Waiters) FromLayout((bool Held, ulong Holder, bool HolderIsOsThreadId) read)
    {
        if (!read.Held)
        {
            _handedOver++;
            return (null, null);
        }
        if (read.Holder == 0)
        {
            _holderNotWritten++;
            return (null, null);
        }
        var holder = read.HolderIsOsThreadId ? (int)read.Holder : tidOfThread(read.Holder);
        if (holder is null) _holderUnknown++;
        return (holder, null);
    }

    (int? Owner, int? Waiters) Described(SyncBlockData entry)
    {
        // Held when the state is odd: a release leaves the holder behind, and only the state tells a free lock.
        if ((entry.MonitorHeld & 1) == 0)
        {
            _handedOver++;
            return (null, entry.Waiters);
        }
        if (entry.HoldingThread == 0)
        {
            _holderNotWritten++;
            return (null, entry.Waiters);
        }
        var holder = tidOfThread(entry.HoldingThread);
        if (holder is null) _holderUnknown++;
        return (holder, entry.Waiters);
    }

    long _handedOver, _holderNotWritten, _holderUnknown, _takenSince, _waits;
    long _notObjects, _dacTypeLookups, _dacEntries, _dacThinLocks;
    readonly Dictionary<string, long> _unnamed = new();

    (int? Owner, int? Waiters) Unnamed(string why)
    {
        _unnamed[why] = _unnamed.GetValueOrDefault(why) + 1;
        return (null, null);
    }

    /// <summary>How the waits followed ended (SNAPPER_DEBUG): why some name no holder.</summary>
    public string Summary() =>
        $"lock holders: {_waits} waits followed; {_readByLayout} Monitors read by the sync-block layout learned; Monitors free with waiters (being handed over) {_handedOver}, "
        + $"held with the holder not yet written {_holderNotWritten}, held by no thread of the process {_holderUnknown}, "
        + $"taken by the waiter itself since {_takenSince}; DAC asked {_dacEntries} sync-block entries, {_dacThinLocks} thin locks, "
        + $"{_dacTypeLookups} types; {_notObjects} scan candidates not objects"
        + (_methodTables.LearnFailure is { } failure ? $"; MethodTables not learned: {failure}" : "")
        + string.Concat(_unnamed.Select(u => $", {u.Key} {u.Value}"));

    /// <summary>
    /// Keeps the runtime's answer with the sync block's memory it was given for: read again now, and kept only when it
    /// equals what was read before the runtime was asked (else the memory changed while it was being described).
    /// </summary>
    void RememberDescribed(ulong obj, uint index, SyncBlockData entry, ReadOnlySpan<byte> before)
    {
        if (_monitorsSeen.Count >= MaxMonitorsSeen) _monitorsSeen.Clear();
        var after = new byte[SyncBlockBytes];
        var unchanged = before.Length == SyncBlockBytes && memory.ReadUncached(entry.SyncBlock, after) == SyncBlockBytes && before.SequenceEqual(after);
        // Without memory to compare with (the first time), the answer is kept for where the sync block is: the next
        // snapshot reads its memory, asks again, and keeps that answer with it.
        _monitorsSeen[obj] = new MonitorSeen(index, entry, unchanged ? after : null);
        if (unchanged) _layout.Learn(after, entry, entry.HoldingThread == 0 ? null : tidOfThread(entry.HoldingThread));
    }

    /// <summary>
    /// The runtime's entry for a sync block as it is now: asked once per snapshot (every waiter of a lock shares it), after
    /// the DAC's caches and the pages read for it were flushed (the target ran since they were filled).
    /// </summary>
    SyncBlockData? EntryNow(uint index)
    {
        if (_sos is null || index == 0) return null;
        if (_entriesNow.TryGetValue(index, out var known)) return known;
        if (!_pagesFlushed)
        {
            // The pages Snapper keeps for the DAC are those of the snapshot's stops, if it had any: the target ran since.
            memory.Flush();
            _pagesFlushed = true;
        }
        ensureDacFresh();
        _dacEntries++;
        return _entriesNow[index] = _sos.Entry(index);
    }

    int? ThinLockHolder(uint thinLockId)
    {
        if (_thinLockHolders.TryGetValue(thinLockId, out var known)) return known;
        if (_sos is null) return null;
        ensureDacFresh();
        _dacThinLocks++;
        var thread = _sos.ThreadOfThinLock(thinLockId);
        var tid = thread == 0 ? null : tidOfThread(thread);
        if (tid is not null) _thinLockHolders[thinLockId] = tid; // an id is a thread's for its life; an unknown one is asked again
        return tid;
    }

    /// <summary>
    /// Whether <paramref name="obj"/> is an object: its MethodTable word is a real MethodTable (see
    /// <see cref="MethodTableCheck"/>), told without the DAC.
    /// </summary>
    bool IsObject(ulong obj)
    {
        if (ReadWord(obj) is not { } methodTable) return false;
        if (_methodTables.NeedsLearning)
        {
            ensureDacFresh();
            _methodTables.Learn(runtime);
        }
        if (_methodTables.IsMethodTable(methodTable)) return true;
        _notObjects++;
        return false;
    }

    /// <summary>The type of the object at <paramref name="obj"/> (one <see cref="IsObject"/> said is one); null when unknown.</summary>
    string? TypeNameOf(ulong obj)
    {
        if (ReadWord(obj) is not { } methodTable || !_methodTables.IsMethodTable(methodTable)) return null;
        if (_typeNames.TryGetValue(methodTable, out var name)) return name;
        if (_typeNames.Count >= MaxTypesKnown) _typeNames.Clear();
        ensureDacFresh();
        _dacTypeLookups++;
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
