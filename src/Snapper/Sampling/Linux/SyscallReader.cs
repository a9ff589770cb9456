namespace Snapper.Sampling.Linux;

/// <summary>
/// Reads each thread's /proc/PID/task/TID/syscall file: <c>running</c>, or the blocked syscall's number, six
/// arguments, stack pointer and pc.
/// </summary>
sealed class SyscallReader(int pid) : IDisposable
{
    readonly ThreadFiles _files = new(pid, "syscall");
    readonly byte[] _buffer = new byte[256];

    public ThreadActivity Read(int tid)
    {
        var length = _files.Read(tid, _buffer);
        return length < 0 ? ThreadActivity.Vanished : Parse(_buffer.AsSpan(0, length));
    }

    public void Retain(HashSet<int> live) => _files.Retain(live);

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
        var firstSpace = text.IndexOf((byte)' ');
        return TryHex(before[spStart..], out var sp) && TryHex(text[(lastSpace + 1)..], out var pc) && spStart > 0
            && System.Buffers.Text.Utf8Parser.TryParse(text[..firstSpace], out int syscall, out var used) && used == firstSpace
            ? new ThreadActivity(false, sp, pc, Syscall: syscall)
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

    public void Dispose() => _files.Dispose();
}
