namespace Snapper.Store;

/// <summary>
/// The samples of one snapshot packed into one value of the snapshot's row (schema 3): a row per thread sample cost
/// ~25 bytes, this ~6-8. Unsigned LEB128 varints; per sample, in thread-id order: the thread id minus the previous
/// one's (the first: the id), the stack id, state * 4 + activity, syscall + 1 (0: none), and the CPU time in
/// microseconds.
/// </summary>
public static class SnapshotSamples
{
    public static byte[] Pack(IReadOnlyList<Sample> samples)
    {
        var sorted = samples.OrderBy(s => s.ThreadId).ToList();
        var buffer = new List<byte>(sorted.Count * 8);
        var previous = 0;
        foreach (var s in sorted)
        {
            Write(buffer, s.ThreadId - previous);
            previous = s.ThreadId;
            Write(buffer, s.StackId);
            Write(buffer, (int)s.State * 4 + (int)s.Activity);
            Write(buffer, s.Syscall + 1L);
            Write(buffer, (s.CpuNs + 500) / 1000);
        }
        return buffer.ToArray();
    }

    /// <summary>Adds the samples of snapshot <paramref name="sequence"/> packed in <paramref name="data"/> to <paramref name="into"/>.</summary>
    public static void Unpack(int sequence, ReadOnlySpan<byte> data, List<Sample> into)
    {
        var at = 0;
        var thread = 0;
        while (at < data.Length)
        {
            thread += (int)Read(data, ref at);
            var stack = (int)Read(data, ref at);
            var kind = (int)Read(data, ref at);
            var syscall = (int)Read(data, ref at) - 1;
            var cpu = Read(data, ref at) * 1000;
            into.Add(new Sample(sequence, thread, stack, (SampleState)(kind / 4), (SampleActivity)(kind % 4), syscall, cpu));
        }
    }

    static void Write(List<byte> buffer, long value)
    {
        var v = (ulong)Math.Max(0, value);
        while (v >= 0x80)
        {
            buffer.Add((byte)(v | 0x80));
            v >>= 7;
        }
        buffer.Add((byte)v);
    }

    static long Read(ReadOnlySpan<byte> data, ref int at)
    {
        long value = 0;
        for (var shift = 0; at < data.Length; shift += 7)
        {
            var b = data[at++];
            value |= (long)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw new StoreException("a snapshot's samples are damaged (truncated data)");
    }
}
