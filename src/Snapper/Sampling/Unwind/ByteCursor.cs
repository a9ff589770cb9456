using System.Buffers.Binary;

namespace Snapper.Sampling.Unwind;

/// <summary>
/// Reads little-endian ELF and DWARF fields from bytes of a file. Every read is bounds-checked: the bytes come from
/// a file Snapper does not control, so running off the end throws <see cref="InvalidDataException"/>, never reads
/// past it.
/// </summary>
ref struct ByteCursor(ReadOnlySpan<byte> bytes, int position = 0)
{
    readonly ReadOnlySpan<byte> _bytes = bytes;

    public int Position { get; set; } = position;
    public readonly int Length => _bytes.Length;
    public readonly bool AtEnd => Position >= _bytes.Length;

    ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || Position < 0 || Position > _bytes.Length - count)
            throw new InvalidDataException($"read of {count} bytes at {Position} runs past the end ({_bytes.Length})");
        var span = _bytes.Slice(Position, count);
        Position += count;
        return span;
    }

    public byte U8() => Take(1)[0];
    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public short S16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));
    public int S32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public long S64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    public ReadOnlySpan<byte> Bytes(int count) => Take(count);

    public ulong Uleb128()
    {
        ulong result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = U8();
            if (shift < 64) result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
            if (shift > 70) throw new InvalidDataException("ULEB128 longer than 10 bytes");
        }
    }

    public long Sleb128()
    {
        long result = 0;
        var shift = 0;
        byte b;
        do
        {
            b = U8();
            if (shift < 64) result |= (long)(b & 0x7f) << shift;
            shift += 7;
            if (shift > 70) throw new InvalidDataException("SLEB128 longer than 10 bytes");
        } while ((b & 0x80) != 0);
        if (shift < 64 && (b & 0x40) != 0) result |= -1L << shift;
        return result;
    }

    /// <summary>A NUL-terminated string's bytes (without the NUL).</summary>
    public ReadOnlySpan<byte> CString()
    {
        var rest = _bytes[Position..];
        var end = rest.IndexOf((byte)0);
        if (end < 0) throw new InvalidDataException("unterminated string");
        Position += end + 1;
        return rest[..end];
    }
}
