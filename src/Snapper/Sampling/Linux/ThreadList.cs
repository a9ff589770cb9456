using Microsoft.Win32.SafeHandles;

namespace Snapper.Sampling.Linux;

/// <summary>
/// The target's thread ids, without listing /proc/PID/task for every sample (measured at 0.26-0.35 ms a sample for
/// 21 threads, more with hundreds). The link count of the /proc/PID/task directory (two plus the number of threads)
/// tells each sample whether the count changed; the directory is listed again, and /proc/PID/stat read for the
/// process state, only when it did, when a known thread turned out to be gone (one exited and another started
/// between two samples), or once a second as a safety net. (Reading /proc/PID/stat every sample instead cost more:
/// the kernel sums every thread's times to format it.)
/// </summary>
sealed unsafe class ThreadList(int pid) : IDisposable
{
    static readonly long RelistEveryMs = 1000;

    readonly byte[] _buffer = new byte[1024];
    readonly byte[] _taskPath = System.Text.Encoding.UTF8.GetBytes($"/proc/{pid}/task\0");
    readonly byte[] _statx = new byte[256];
    SafeFileHandle? _stat;
    int[] _tids = [];
    int _count = -1;
    long _listedAt;
    bool _stale = true;

    /// <summary>
    /// The current thread ids, or an empty array when the process is gone or a zombie. The same array instance comes
    /// back for as long as the set of threads is unchanged.
    /// </summary>
    public int[] Read()
    {
        var count = ReadThreadCount();
        if (count <= 0) return [];
        if (_stale || count != _count || Environment.TickCount64 - _listedAt > RelistEveryMs)
        {
            // A process that exits becomes a zombie with fewer threads than before: the count changed, so this sees it.
            if (ReadState() is '?' or 'Z' or 'X') return [];
            var listed = ProcFs.ListThreads(pid);
            // Same threads: hand back the same array, so callers can tell "unchanged" by reference and skip their
            // own refreshes (re-reading ClrMD's thread list inside a stop was one sample in a hundred: the p99).
            if (!listed.AsSpan().SequenceEqual(_tids)) _tids = listed;
            _count = count;
            _listedAt = Environment.TickCount64;
            _stale = false;
        }
        return _tids;
    }

    /// <summary>A thread of the last list is gone: list again next time.</summary>
    public void Invalidate() => _stale = true;

    /// <summary>The number of threads, from the task directory's link count; 0 when the process is gone.</summary>
    int ReadThreadCount()
    {
        fixed (byte* path = _taskPath)
        fixed (byte* buffer = _statx)
        {
            if (Native.Statx(Native.AT_FDCWD, path, 0, Native.STATX_NLINK, buffer) != 0) return 0;
            return (int)*(uint*)(buffer + Native.StatxNlinkOffset) - 2;
        }
    }

    /// <summary>The process state from /proc/PID/stat ("pid (comm) S ..."; comm may hold ") ", so after the last one); '?' when gone.</summary>
    char ReadState()
    {
        try
        {
            _stat ??= File.OpenHandle($"/proc/{pid}/stat");
            var stat = _buffer.AsSpan(0, RandomAccess.Read(_stat, _buffer, 0));
            var close = stat.LastIndexOf((byte)')');
            return close >= 0 && close + 2 < stat.Length ? (char)stat[close + 2] : '?';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return '?';
        }
    }

    public void Dispose() => _stat?.Dispose();
}
