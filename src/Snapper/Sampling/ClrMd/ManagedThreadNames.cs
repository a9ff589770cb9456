using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// The managed <c>Thread.Name</c> of each thread, which the OS name cannot give (it holds 15 characters, and the main
/// thread stays "dotnet"). ClrMD has no API for it: each System.Threading.Thread object is reached through its
/// strong handle, its <c>_DONT_USE_InternalThread</c> field matched to the ClrThread's address, and its <c>_name</c>
/// read. That costs tens of milliseconds on a big process, so it is done after the resume, only when a thread appears
/// that the last read did not see (at most every five seconds), and every thirty seconds for renames. Those field names are
/// runtime internals: when they are missing, and until a new thread's name is read, the OS name stands in.
/// </summary>
sealed class ManagedThreadNames(int pid)
{
    // A process that churns threads would otherwise pay for a read every second.
    static readonly long MinIntervalMs = 5_000, RefreshEveryMs = 30_000;

    readonly Dictionary<ulong, string> _byThreadAddress = new();
    readonly ThreadNames _osNames = new(pid);
    readonly HashSet<ulong> _seen = new();
    long? _readAt;

    /// <summary>The managed name of a walked thread, else its OS name; null when it has neither.</summary>
    public string? NameOf(RawThread thread) => _byThreadAddress.GetValueOrDefault(thread.ThreadAddress) ?? _osNames.Get(thread.OsThreadId);

    /// <summary>Re-reads the names if a walked thread is new to them, or they are old. Call while the ClrMD objects are valid.</summary>
    public void Update(ClrRuntime runtime, IReadOnlyList<RawThread> walked)
    {
        var age = _readAt is { } at ? Environment.TickCount64 - at : long.MaxValue;
        var unseen = walked.Any(t => !_seen.Contains(t.ThreadAddress));
        if (!(unseen && age >= MinIntervalMs) && age < RefreshEveryMs) return;
        _readAt = Environment.TickCount64;
        foreach (var thread in walked) _seen.Add(thread.ThreadAddress);
        try
        {
            foreach (var handle in runtime.EnumerateHandles())
            {
                if (!handle.IsStrong) continue;
                var thread = handle.Object;
                if (!thread.IsValid || thread.Type?.Name != "System.Threading.Thread") continue;
                if (!thread.TryReadField<ulong>("_DONT_USE_InternalThread", out var native) || native == 0) continue;
                if (thread.TryReadStringField("_name", 1024, out var name) && !string.IsNullOrEmpty(name))
                    _byThreadAddress[native] = name;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or ClrDiagnosticsException)
        {
            // The target moved on under the read (it runs meanwhile): keep the names read so far; the next read may do better.
        }
    }
}
