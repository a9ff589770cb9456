using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>
/// A thread blocked entering a lock, and who holds it, read while both were stopped. <see cref="OwnerOsThreadId"/> is
/// null when the lock was found but names no live holder: stopped in the middle of a hand-over (a Monitor marked held
/// whose holder field was not yet written, seen on ShopService under load), or held by a thread that has exited.
/// <see cref="Waiters"/> is how many threads the runtime counts as waiting for a Monitor (null for a Lock, which does not
/// count them).
/// </summary>
public sealed record LockWait(LockKind Kind, string LockType, ulong LockAddress, int? OwnerOsThreadId, int? Waiters);
