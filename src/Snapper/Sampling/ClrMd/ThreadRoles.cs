namespace Snapper.Sampling.ClrMd;

/// <summary>
/// A label for the threads the runtime starts for itself, so a report says "thread pool worker" rather than
/// ".NET TP Worker" or "Thread 7". The runtime's own flags come first; the OS names it gives its threads
/// (".NET ..." in .NET 6 and later, 15 characters at most) cover the rest.
/// </summary>
static class ThreadRoles
{
    static readonly (string OsName, string Role)[] ByOsName =
    [
        (".NET TP Worker", "thread pool worker"),
        (".NET TP Gate", "thread pool gate"),
        (".NET TP Wait", "thread pool wait"),
        (".NET Finalizer", "finalizer"),
        (".NET Tiered Com", "tiered compilation"),
        (".NET Timer", "timer"),
        (".NET Sockets", "socket engine"),
        (".NET SigHandler", "signal handler"),
        (".NET BGC", "background GC"),
        (".NET Server GC", "server GC"),
        (".NET GC", "GC"),
        (".NET Long Runni", "long-running task"),
        (".NET File Watch", "file watcher"),
        (".NET EventPipe", "EventPipe"),
        (".NET Counter Po", "counter poller"),
    ];

    /// <summary>The thread's role, or null for an ordinary application thread.</summary>
    public static string? Of(RuntimeThreadFlags flags, string? osName, int osThreadId, int pid)
    {
        if ((flags & RuntimeThreadFlags.Finalizer) != 0) return "finalizer";
        if (osThreadId == pid) return "main thread";
        // The OS name is more specific than the flags: the thread pool's gate and wait threads carry the worker flag too.
        if (osName is not null && osName.StartsWith(".NET ", StringComparison.Ordinal))
        {
            foreach (var (prefix, role) in ByOsName)
                if (osName.StartsWith(prefix, StringComparison.Ordinal)) return role;
        }
        if ((flags & RuntimeThreadFlags.GarbageCollector) != 0) return "GC";
        if ((flags & RuntimeThreadFlags.ThreadPoolWorker) != 0) return "thread pool worker";
        if ((flags & RuntimeThreadFlags.CompletionPort) != 0) return "thread pool I/O";
        return osName is not null && osName.StartsWith(".NET ", StringComparison.Ordinal) ? "runtime: " + osName[5..] : null;
    }

    /// <summary>Roles of threads that only ever wait for the runtime to hand them work.</summary>
    public static bool IsRuntimeService(string? role) => role is "finalizer" or "tiered compilation" or "thread pool gate"
        or "thread pool wait" or "timer" or "socket engine" or "signal handler" or "EventPipe" or "counter poller" or "GC"
        or "background GC" or "server GC";
}
