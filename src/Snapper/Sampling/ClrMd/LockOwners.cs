using System.Buffers.Binary;
using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;
using Snapper.Store;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Names the holder of the lock each blocked thread is entering, from the target's memory while they are stopped.
/// A thread is entering a lock when its innermost managed frames (below, at most, the wait they block in) are
/// System.Threading.Monitor's Enter methods or System.Threading.Lock's. Which lock: the stack between the thread's stack
/// pointer and its caller's frame (the lock methods' own frames, and the native ones under them) holds the lock's object,
/// passed down to the wait; the first word there that is a held Monitor's object (the runtime's sync-block table names
/// holder and waiter count) or a System.Threading.Lock (whose owner field names its holder) is that lock. Bounded by the
/// caller's frame, a thread that holds one lock and waits for another is not taken for waiting on its own.
/// Costs nothing when no thread is entering a lock; the sync-block table is read once per call otherwise.
/// </summary>
static class LockOwners
{
    const int MaxScanBytes = 16 * 1024;
    // Frames a lock's wait may sit under, innermost, before the lock's own: the wait handle and the runtime's low-level waits.
    const int MaxWaitFrames = 6;
    const string MonitorType = "System.Threading.Monitor", LockType = "System.Threading.Lock";

    /// <param name="stackPointers">Each stopped thread's stack pointer at its stop.</param>
    public static Dictionary<int, LockWait> Find(ClrRuntime runtime, IEnumerable<RawThread> threads, IReadOnlyDictionary<int, ulong> stackPointers,
        ProcessMemory memory)
    {
        var found = new Dictionary<int, LockWait>();
        Dictionary<ulong, (int? Owner, int Waiters)>? monitors = null;
        var words = new byte[MaxScanBytes];
        foreach (var thread in threads)
        {
            if (Entering(thread) is not { } entering || !stackPointers.TryGetValue(thread.OsThreadId, out var sp) || sp == 0) continue;
            if (entering.Bound <= sp) continue;
            var length = (int)Math.Min(entering.Bound - sp, MaxScanBytes) / 8 * 8;
            var read = memory.Read(sp, words.AsSpan(0, length)) / 8 * 8;
            monitors ??= HeldMonitors(runtime);
            for (var offset = 0; offset < read; offset += 8)
            {
                var word = BinaryPrimitives.ReadUInt64LittleEndian(words.AsSpan(offset));
                if (word == 0) continue;
                var wait = entering.Kind == LockKind.Monitor ? MonitorAt(runtime, monitors, word) : LockAt(runtime, word);
                if (wait is null) continue;
                found[thread.OsThreadId] = wait;
                break;
            }
        }
        return found;
    }

    /// <summary>Whether the thread is entering a lock, which kind, and its caller's stack pointer (where the scan stops).</summary>
    static (LockKind Kind, ulong Bound)? Entering(RawThread thread)
    {
        LockKind? kind = null;
        var managedBefore = 0;
        foreach (var frame in thread.Frames)
        {
            var type = frame.Method?.Type?.Name;
            var method = frame.Method?.Name ?? "";
            LockKind? lockFrame = type switch
            {
                MonitorType when method.Contains("Enter", StringComparison.Ordinal) => LockKind.Monitor,
                LockType when method.Contains("Enter", StringComparison.Ordinal) => LockKind.Lock,
                _ => null,
            };
            if (lockFrame is { } k)
            {
                kind ??= k;
                continue;
            }
            if (frame.Kind != ClrStackFrameKind.ManagedMethod) continue; // runtime frames: a P/Invoke, a helper
            if (kind is { } entering) return (entering, frame.StackPointer);
            // Under the lock's frames only the wait it blocks in (WaitHandle, the runtime's low-level waits).
            if (type is null || !type.StartsWith("System.Threading.", StringComparison.Ordinal) || ++managedBefore > MaxWaitFrames) return null;
        }
        return null;
    }

    static Dictionary<ulong, (int? Owner, int Waiters)> HeldMonitors(ClrRuntime runtime)
    {
        var held = new Dictionary<ulong, (int?, int)>();
        try
        {
            var byAddress = runtime.Threads.ToDictionary(t => t.Address, t => (int)t.OSThreadId);
            foreach (var block in runtime.Heap.EnumerateSyncBlocks())
                if (block.IsMonitorHeld && block.Object != 0)
                    held[block.Object] = (byAddress.TryGetValue(block.HoldingThreadAddress, out var owner) ? owner : null, block.WaitingThreadCount);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ClrDiagnosticsException)
        {
            // The table could not be read in full: the waiters found in what was read are named, the others are not.
        }
        return held;
    }

    static LockWait? MonitorAt(ClrRuntime runtime, Dictionary<ulong, (int? Owner, int Waiters)> monitors, ulong word) =>
        monitors.TryGetValue(word, out var held)
            ? new LockWait(LockKind.Monitor, runtime.Heap.GetObjectType(word)?.Name ?? "object", word, held.Owner, held.Waiters)
            : null;

    /// <summary>
    /// A System.Threading.Lock at <paramref name="word"/>, and its holder: the owner field holds the OS thread id of the
    /// holder on Linux (.NET 9 and 10), 0 when free; a runtime that keeps the managed thread id there is matched by that.
    /// </summary>
    static LockWait? LockAt(ClrRuntime runtime, ulong word)
    {
        try
        {
            if (runtime.Heap.GetSegmentByAddress(word) is null) return null;
            var lockObject = runtime.Heap.GetObject(word);
            if (!lockObject.IsValid || lockObject.Type?.Name != LockType) return null;
            var owner = lockObject.Type.GetFieldByName("_owningThreadId") is { } field ? field.Read<uint>(word, interior: false) : 0u;
            return new LockWait(LockKind.Lock, LockType, word, owner == 0 ? null : OwnerThread(runtime, owner), null);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ClrDiagnosticsException)
        {
            return null;
        }
    }

    static int? OwnerThread(ClrRuntime runtime, uint id)
    {
        foreach (var thread in runtime.Threads)
            if (thread.OSThreadId == id) return (int)thread.OSThreadId;
        foreach (var thread in runtime.Threads)
            if (thread.ManagedThreadId == id) return (int)thread.OSThreadId;
        return null;
    }
}
