namespace Snapper.Sampling.Linux;

/// <summary>
/// Each thread's total time on a CPU, in nanoseconds: the first field of /proc/PID/task/TID/schedstat, exact to the
/// nanosecond. Kernels built without schedstat fall back to utime+stime from /proc/PID/task/TID/stat, which only
/// moves in clock ticks (10 ms). A thread whose run time has not moved has not run: its stack is exactly what it
/// was, a cheaper proof than hashing it; and the difference between two samples is the CPU it used in between.
/// </summary>
sealed class RunTimeReader : IDisposable
{
    /// <summary>USER_HZ: the unit of utime and stime, 100 on every Linux architecture .NET runs on.</summary>
    const ulong NanosecondsPerTick = 10_000_000;

    readonly ThreadFiles _files;
    readonly bool _fromStat;
    readonly byte[] _buffer = new byte[1024];

    public RunTimeReader(int pid)
    {
        _fromStat = !File.Exists($"/proc/{pid}/schedstat");
        _files = new ThreadFiles(pid, _fromStat ? "stat" : "schedstat");
    }

    /// <summary>Nanoseconds on CPU, or null when unknown (the thread is gone).</summary>
    public ulong? Read(int tid)
    {
        var length = _files.Read(tid, _buffer);
        if (length <= 0) return null;
        var text = _buffer.AsSpan(0, length);
        return _fromStat ? FromStat(text) : ParseNumber(text);
    }

    /// <summary>utime and stime are fields 14 and 15; the name in field 2 may hold spaces, so count from its ')'.</summary>
    internal static ulong? FromStat(ReadOnlySpan<byte> text)
    {
        var close = text.LastIndexOf((byte)')');
        if (close < 0) return null;
        var rest = text[(close + 2)..]; // field 3 onwards
        ulong? user = null;
        for (var field = 3; field <= 15 && !rest.IsEmpty; field++)
        {
            var space = rest.IndexOf((byte)' ');
            var value = space < 0 ? rest : rest[..space];
            if (field == 14) user = ParseNumber(value);
            if (field == 15) return user + ParseNumber(value) is { } ticks ? ticks * NanosecondsPerTick : null;
            rest = space < 0 ? default : rest[(space + 1)..];
        }
        return null;
    }

    static ulong? ParseNumber(ReadOnlySpan<byte> text)
    {
        ulong value = 0;
        var digits = 0;
        foreach (var c in text)
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
