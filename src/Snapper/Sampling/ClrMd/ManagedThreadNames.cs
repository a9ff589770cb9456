using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// The managed <c>Thread.Name</c> of each thread, which the OS name cannot give (it holds 15 characters, and the main
/// thread stays "dotnet"). ClrMD has no API for it: each System.Threading.Thread object is reached through its
/// strong handle, its <c>_DONT_USE_InternalThread</c> field matched to the ClrThread's address, and its <c>_name</c>
/// read. That costs tens of milliseconds on a big process, so it is done after the resume, and only when a thread
/// appears that the last read did not see (at most every five seconds), when a thread's OS name changed (a rename;
/// at most every second), and every thirty seconds. Those field names are runtime internals: when they are missing,
/// the OS name stands in (see <see cref="ThreadIdentities"/>).
/// </summary>
sealed class ManagedThreadNames
{
    // A process that churns threads would otherwise pay for a read every second.
    const long NewThreadIntervalMs = 5_000, RenameIntervalMs = 1_000, RefreshEveryMs = 30_000;

    Dictionary<ulong, string> _byThreadAddress = new();
    readonly HashSet<ulong> _seen = new();
    long? _readAt;

    /// <summary>The managed name of the thread whose runtime Thread object is at <paramref name="threadAddress"/>.</summary>
    public string? NameOf(ulong threadAddress) => _byThreadAddress.GetValueOrDefault(threadAddress);

    /// <summary>
    /// Re-reads the names when they may be stale; true when it did. Call while the ClrMD objects are valid.
    /// </summary>
    /// <param name="beforeDac">Runs before the DAC is asked: its caches must be fresh (see PtraceStackSource).</param>
    public bool Update(ClrRuntime runtime, IReadOnlyList<RawThread> walked, bool osNameChanged, Action? beforeDac = null)
    {
        var age = _readAt is { } at ? Environment.TickCount64 - at : long.MaxValue;
        var unseen = walked.Any(t => !_seen.Contains(t.ThreadAddress));
        var due = age >= RefreshEveryMs || (unseen && age >= NewThreadIntervalMs) || (osNameChanged && age >= RenameIntervalMs);
        if (!due) return false;
        _readAt = Environment.TickCount64;
        foreach (var thread in walked) _seen.Add(thread.ThreadAddress);
        beforeDac?.Invoke();
        var names = new Dictionary<ulong, string>();
        try
        {
            foreach (var handle in runtime.EnumerateHandles())
            {
                if (!handle.IsStrong) continue;
                var thread = handle.Object;
                if (!thread.IsValid || thread.Type?.Name != "System.Threading.Thread") continue;
                if (!thread.TryReadField<ulong>("_DONT_USE_InternalThread", out var native) || native == 0) continue;
                if (thread.TryReadStringField("_name", 1024, out var name) && !string.IsNullOrEmpty(name))
                    names[native] = name;
            }
            _byThreadAddress = names;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or ClrDiagnosticsException)
        {
            // The target moved on under the read (it runs meanwhile): add what was read; the next read may do better.
            foreach (var (address, name) in names) _byThreadAddress[address] = name;
        }
        return true;
    }
}
