using Microsoft.Win32.SafeHandles;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Each thread's total time on a CPU (the first field of /proc/PID/task/TID/schedstat, in nanoseconds), read
/// through handles kept open across samples. A thread whose run time has not moved has not run: its stack is
/// exactly what it was, a cheaper proof than hashing the stack.
/// </summary>
sealed class RunTimeReader(int pid) : IDisposable
{
    readonly Dictionary<int, SafeFileHandle?> _handles = new();
    readonly byte[] _buffer = new byte[128];

    /// <summary>Nanoseconds on CPU, or null when unknown (the thread is gone, or the kernel has no schedstat).</summary>
    public ulong? Read(int tid)
    {
        if (!_handles.TryGetValue(tid, out var handle))
            _handles[tid] = handle = Open(tid);
        if (handle is null) return null;
        try
        {
            var length = RandomAccess.Read(handle, _buffer, 0);
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
        catch (IOException)
        {
            return null;
        }
    }

    public void Retain(HashSet<int> live)
    {
        foreach (var tid in _handles.Keys.Where(t => !live.Contains(t)).ToList())
        {
            _handles[tid]?.Dispose();
            _handles.Remove(tid);
        }
    }

    SafeFileHandle? Open(int tid)
    {
        try
        {
            return File.OpenHandle($"/proc/{pid}/task/{tid}/schedstat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        foreach (var handle in _handles.Values) handle?.Dispose();
        _handles.Clear();
    }
}
