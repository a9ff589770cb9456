namespace Snapper.Store;

/// <summary>The kinds of lock whose holder Snapper can name. Stored as numbers: values are only ever added.</summary>
public enum LockKind
{
    /// <summary>A <c>lock</c> statement on an object, or Monitor.Enter: the runtime's sync block names its holder.</summary>
    Monitor = 0,

    /// <summary>A System.Threading.Lock (.NET 9 and later): its own fields name its holder.</summary>
    Lock = 1,
}

/// <summary>
/// A lock threads of a session were seen waiting to enter (schema 8). <see cref="TypeName"/> is the type of the locked
/// object for a Monitor, <c>System.Threading.Lock</c> for a Lock. <see cref="Address"/> is where the object was when it
/// was first seen: a lock is one row for as long as Snapper could follow it, even when a collection moved it.
/// </summary>
public sealed record LockInfo(int Id, LockKind Kind, string TypeName, ulong Address);

/// <summary>
/// A thread sample blocked entering a lock (schema 8): which lock, and the thread that held it at that snapshot
/// (<see cref="OwnerThreadId"/>, a thread of the same session, whose own sample in the snapshot shows what it was doing;
/// null when no holder was named: the lock was being handed over, or its holder was not sampled).
/// </summary>
public readonly record struct LockWaitSample(int Sequence, int ThreadId, int LockId, int? OwnerThreadId);
