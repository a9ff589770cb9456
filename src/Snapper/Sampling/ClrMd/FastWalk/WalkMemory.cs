using System.Buffers.Binary;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// The fast walk's view of the target's memory, read while the threads are stopped: each stopped thread's stack, as
/// deep as its last walk went, copied for all threads in one system call (<see cref="CopyStacks"/>); everything else
/// (a deeper stack, Thread objects, code, unwind info) through the snapshot's page cache.
/// Sealed (<see cref="Seal"/>), it serves the memory of threads that were not stopped and may run again by the time
/// they are walked: what each owns (its stack, the word naming its innermost Frame) only from what was copied while
/// they were known not to have run; a read of it that the copies do not hold fails, instead of reading it as it is now.
/// </summary>
sealed class WalkMemory(ProcessMemory memory) : IWalkMemory
{
    readonly List<(ulong Start, ulong End, int Offset)> _copies = [];
    byte[] _buffer = new byte[64 * 1024];
    int _last; // the copy the previous read hit: a walk reads one stack at a time
    readonly List<(ulong Low, ulong High)> _sealed = [];

    /// <summary>Set when a read fell in sealed memory outside the copies (see <see cref="Seal"/>); cleared by the caller.</summary>
    public bool ReadOutsideCopies { get; set; }

    /// <summary>From now until the next copy, reads of these ranges come from the copies or fail.</summary>
    public void Seal(List<(ulong Low, ulong High)> ranges)
    {
        _sealed.Clear();
        _sealed.AddRange(ranges);
    }

    /// <summary>Copies the given stack ranges (the previous snapshot's copies are dropped). A range that cannot be read
    /// whole ends the copying: it and the ranges after it are read through the page cache instead.</summary>
    public void CopyStacks(List<(ulong From, int Extent)> ranges)
    {
        _copies.Clear();
        _sealed.Clear();
        var total = 0;
        foreach (var (_, extent) in ranges) total += extent;
        if (total == 0) return;
        if (_buffer.Length < total) _buffer = new byte[Math.Max(total, _buffer.Length * 2)];
        var read = memory.ReadUncached(ranges, _buffer.AsSpan(0, total));
        var offset = 0;
        foreach (var (from, extent) in ranges)
        {
            if (offset + extent > read) break;
            _copies.Add((from, from + (ulong)extent, offset));
            offset += extent;
        }
    }

    public bool TryReadPointer(ulong address, out ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        if (Read(address, bytes) == 8)
        {
            value = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            return true;
        }
        value = 0;
        return false;
    }

    List<(ulong Address, int Length)>? _recording;

    /// <summary>From now until <see cref="StopRecording"/>, every read is noted in <paramref name="reads"/> (what it asked, and how much it got).</summary>
    public void StartRecording(List<(ulong Address, int Length)> reads)
    {
        reads.Clear();
        _recording = reads;
    }

    public void StopRecording() => _recording = null;

    public int Read(ulong address, Span<byte> buffer)
    {
        var read = ReadUnrecorded(address, buffer);
        _recording?.Add((address, read == buffer.Length ? read : 0)); // a short read: the walk saw a failure, which is not kept
        return read;
    }

    int ReadUnrecorded(ulong address, Span<byte> buffer)
    {
        var end = address + (ulong)buffer.Length;
        if (_last < _copies.Count && Within(_copies[_last], address, end)) return CopyOut(_copies[_last], address, buffer);
        for (var i = 0; i < _copies.Count; i++)
            if (Within(_copies[i], address, end))
            {
                _last = i;
                return CopyOut(_copies[i], address, buffer);
            }
        foreach (var (low, high) in _sealed)
            if (address < high && end > low)
            {
                ReadOutsideCopies = true;
                return 0;
            }
        return memory.Read(address, buffer);
    }

    static bool Within((ulong Start, ulong End, int Offset) copy, ulong address, ulong end) => copy.Start <= address && end <= copy.End;

    int CopyOut((ulong Start, ulong End, int Offset) copy, ulong address, Span<byte> buffer)
    {
        _buffer.AsSpan(copy.Offset + (int)(address - copy.Start), buffer.Length).CopyTo(buffer);
        return buffer.Length;
    }
}
