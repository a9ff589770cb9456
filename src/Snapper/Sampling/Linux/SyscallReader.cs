using Microsoft.Win32.SafeHandles;

namespace Snapper.Sampling.Linux;

/// <summary>What /proc/PID/task/TID/syscall says about a thread, read without stopping it.</summary>
readonly record struct ThreadActivity(bool Running, ulong StackPointer, ulong ProgramCounter, bool Gone = false)
{
    /// <summary>Nothing known: treat as running (stop and walk it).</summary>
    public static readonly ThreadActivity Unknown = new(true, 0, 0);

    /// <summary>The thread no longer exists.</summary>
    public static readonly ThreadActivity Vanished = new(true, 0, 0, Gone: true);
}

/// <summary>
/// Reads each thread's syscall file through a handle kept open across samples, into one reused buffer: reading
/// /proc with File.ReadAllText for every thread of every sample was measured to cost more than the stack walk.
/// The file reads <c>running</c>, or the blocked syscall's number, six arguments, stack pointer and pc.
/// </summary>
sealed class SyscallReader(int pid) : IDisposable
{
    readonly Dictionary<int, SafeFileHandle?> _handles = new();
    readonly byte[] _buffer = new byte[256];

    public ThreadActivity Read(int tid)
    {
        if (!_handles.TryGetValue(tid, out var handle))
            _handles[tid] = handle = Open(tid);
        if (handle is null) return ThreadActivity.Vanished;
        int length;
        try
        {
            length = RandomAccess.Read(handle, _buffer, 0);
        }
        catch (IOException)
        {
            return ThreadActivity.Vanished; // ESRCH: the thread exited
        }
        return Parse(_buffer.AsSpan(0, length));
    }

    /// <summary>Drops handles of threads that are gone; call with the current thread list.</summary>
    public void Retain(HashSet<int> live)
    {
        foreach (var tid in _handles.Keys.Where(t => !live.Contains(t)).ToList())
        {
            _handles[tid]?.Dispose();
            _handles.Remove(tid);
        }
    }

    /// <summary>Parses without allocating: this runs for every thread of every sample.</summary>
    internal static ThreadActivity Parse(ReadOnlySpan<byte> text)
    {
        if (text.StartsWith("running"u8)) return ThreadActivity.Unknown;
        // "202 0x55a6 0x189 0x0 0x0 0x0 0x0 0x7f21ee1fd8a0 0x7f2e67bc3f16": the last two fields are sp and pc.
        text = text.TrimEnd((byte)'\n').TrimEnd((byte)' ');
        var lastSpace = text.LastIndexOf((byte)' ');
        if (lastSpace <= 0) return ThreadActivity.Unknown;
        var before = text[..lastSpace];
        var spStart = before.LastIndexOf((byte)' ') + 1;
        return TryHex(before[spStart..], out var sp) && TryHex(text[(lastSpace + 1)..], out var pc) && spStart > 0
            ? new ThreadActivity(false, sp, pc)
            : ThreadActivity.Unknown;
    }

    static bool TryHex(ReadOnlySpan<byte> text, out ulong value)
    {
        value = 0;
        if (text.StartsWith("0x"u8)) text = text[2..];
        if (text.IsEmpty || text.Length > 16) return false;
        foreach (var c in text)
        {
            int digit = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
                _ => -1,
            };
            if (digit < 0) return false;
            value = value << 4 | (uint)digit;
        }
        return true;
    }

    /// <summary>Null when the thread is gone (an unreadable file, e.g. for lack of rights, surfaces earlier, at the probe).</summary>
    SafeFileHandle? Open(int tid)
    {
        try
        {
            return File.OpenHandle($"/proc/{pid}/task/{tid}/syscall");
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
