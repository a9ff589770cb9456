using System.IO.Compression;

namespace Snapper.Report;

/// <summary>Unsigned LEB128 varints into a buffer, gzip-compressed at the end: the HTML report's packed samples.</summary>
sealed class VarintWriter
{
    readonly MemoryStream _buffer = new();

    public void Write(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        var v = (ulong)value;
        while (v >= 0x80)
        {
            _buffer.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        _buffer.WriteByte((byte)v);
    }

    public byte[] Compress()
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            gzip.Write(_buffer.GetBuffer(), 0, (int)_buffer.Length);
        return compressed.ToArray();
    }
}
