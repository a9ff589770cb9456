using System.Buffers.Binary;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Small reads of another process gathered and done in one system call (process_vm_readv with one remote range each).
/// A range that is not mapped ends the kernel's read there; the ranges after it are then read one by one, so one bad
/// address costs its own read and no other range. Reused: <see cref="Clear"/>, <see cref="Add"/>, <see cref="Read"/>.
/// </summary>
sealed class BatchedReads(ProcessMemory memory)
{
    readonly List<(ulong From, int Extent)> _ranges = new();
    readonly List<int> _offsets = new(); // each range's place in the buffer
    readonly List<bool> _read = new();
    byte[] _buffer = new byte[1024];
    int _length;

    public void Clear()
    {
        _ranges.Clear();
        _offsets.Clear();
        _read.Clear();
        _length = 0;
    }

    /// <returns>The range's index, for <see cref="Bytes"/> once read.</returns>
    public int Add(ulong from, int extent)
    {
        _ranges.Add((from, extent));
        _offsets.Add(_length);
        _read.Add(false);
        _length += extent;
        return _ranges.Count - 1;
    }

    public void Read()
    {
        if (_ranges.Count == 0) return;
        if (_buffer.Length < _length) _buffer = new byte[Math.Max(_length, _buffer.Length * 2)];
        var got = memory.ReadUncached(_ranges, _buffer.AsSpan(0, _length));
        for (var i = 0; i < _ranges.Count; i++)
        {
            var (from, extent) = _ranges[i];
            _read[i] = _offsets[i] + extent <= got || memory.ReadUncached(from, _buffer.AsSpan(_offsets[i], extent)) == extent;
        }
    }

    /// <summary>The bytes of range <paramref name="index"/>; empty when they could not be read.</summary>
    public ReadOnlySpan<byte> Bytes(int index) => _read[index] ? _buffer.AsSpan(_offsets[index], _ranges[index].Extent) : default;

    public ulong? Word(int index) => Bytes(index) is { Length: >= 8 } bytes ? BinaryPrimitives.ReadUInt64LittleEndian(bytes) : null;
}
