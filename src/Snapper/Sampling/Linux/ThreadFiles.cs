using Microsoft.Win32.SafeHandles;

namespace Snapper.Sampling.Linux;

/// <summary>
/// One /proc/PID/task/TID/&lt;name&gt; file per thread, opened once and read with pread into the caller's buffer on every
/// sample: opening and reading /proc with File.ReadAllText for every thread of every sample cost more than the walk.
/// </summary>
sealed class ThreadFiles(int pid, string name) : IDisposable
{
    readonly Dictionary<int, SafeFileHandle?> _handles = new();

    /// <summary>Bytes read into <paramref name="buffer"/>, or -1 when the thread is gone (or its file unreadable).</summary>
    public int Read(int tid, byte[] buffer)
    {
        if (!_handles.TryGetValue(tid, out var handle))
            _handles[tid] = handle = Open(tid);
        if (handle is null) return -1;
        try
        {
            return RandomAccess.Read(handle, buffer, 0);
        }
        catch (IOException)
        {
            return -1; // ESRCH: the thread exited
        }
    }

    /// <summary>Closes the files of threads that are gone; call with the current thread list.</summary>
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
            return File.OpenHandle($"/proc/{pid}/task/{tid}/{name}");
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
