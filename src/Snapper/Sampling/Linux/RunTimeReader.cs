namespace Snapper.Sampling.Linux;

/// <summary>
/// Each thread's total time on a CPU (the first field of /proc/PID/task/TID/schedstat, in nanoseconds). A thread
/// whose run time has not moved has not run: its stack is exactly what it was, a cheaper proof than hashing it.
/// </summary>
sealed class RunTimeReader(int pid) : IDisposable
{
    readonly ThreadFiles _files = new(pid, "schedstat");
    readonly byte[] _buffer = new byte[128];

    /// <summary>Nanoseconds on CPU, or null when unknown (the thread is gone, or the kernel has no schedstat).</summary>
    public ulong? Read(int tid)
    {
        var length = _files.Read(tid, _buffer);
        if (length <= 0) return null;
        ulong value = 0;
        var digits = 0;
        foreach (var c in _buffer.AsSpan(0, length))
        {
            if (c is < (byte)'0' or > (byte)'9') break;
            value = value * 10 + (ulong)(c - '0');
            digits++;
        }
        return digits > 0 ? value : null;
    }

    public void Retain(HashSet<int> live) => _files.Retain(live);

    public void Dispose() => _files.Dispose();
}
