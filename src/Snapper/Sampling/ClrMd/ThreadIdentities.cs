using Microsoft.Diagnostics.Runtime;
using Snapper.Store;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Who each thread is: managed id, managed name (see <see cref="ManagedThreadNames"/>), OS name and runtime role.
/// An identity object is handed out again while nothing about the thread changed, so the store can tell a rename
/// from the same thread seen again by reference.
/// </summary>
sealed class ThreadIdentities(int pid) : IDisposable
{
    sealed record Known(int ManagedThreadId, ulong ThreadAddress, RuntimeThreadFlags Flags)
    {
        public ThreadIdentity? Identity { get; set; }
        public int Version { get; set; } = -1;
    }

    readonly ManagedThreadNames _managed = new();
    readonly ThreadNames _osNames = new(pid);
    readonly Dictionary<int, Known> _known = new();
    int _version;
    bool _renamePending;

    /// <summary>Learns the walked threads and refreshes names when due. Call after the resume, while ClrMD's objects are valid.</summary>
    public void Update(ClrRuntime runtime, IReadOnlyList<RawThread> walked, Action? beforeDac = null)
    {
        foreach (var thread in walked)
        {
            if (_known.TryGetValue(thread.OsThreadId, out var known) && known.ManagedThreadId == thread.ManagedThreadId
                && known.ThreadAddress == thread.ThreadAddress && known.Flags == thread.Flags) continue;
            _known[thread.OsThreadId] = new Known(thread.ManagedThreadId, thread.ThreadAddress, thread.Flags);
        }
        // A rename seen in the OS name is pending until the managed names have been read again (at most every second).
        var renamed = _osNames.RecheckSome();
        _renamePending |= renamed;
        var reread = _managed.Update(runtime, walked, _renamePending, beforeDac);
        if (reread) _renamePending = false;
        if (reread || renamed) _version++;
    }

    /// <summary>The identity of a thread seen in a walk.</summary>
    public ThreadIdentity Of(int osThreadId)
    {
        var known = _known[osThreadId];
        if (known.Version == _version && known.Identity is { } current) return current;
        var osName = _osNames.Get(osThreadId);
        var identity = new ThreadIdentity(known.ManagedThreadId, _managed.NameOf(known.ThreadAddress), osName,
            ThreadRoles.Of(known.Flags, osName, osThreadId, pid));
        // Same values as before: keep the old object, so nothing downstream sees a change.
        if (known.Identity is { } previous && previous == identity) identity = previous;
        known.Identity = identity;
        known.Version = _version;
        return identity;
    }

    public void Retain(HashSet<int> live)
    {
        _osNames.Retain(live);
        _known.KeepOnly(live);
    }

    public void Dispose() => _osNames.Dispose();
}
