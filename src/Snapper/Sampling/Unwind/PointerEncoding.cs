namespace Snapper.Sampling.Unwind;

/// <summary>
/// The DW_EH_PE pointer encodings of .eh_frame and .eh_frame_hdr: the low nibble is the value's format, the high
/// one what it is relative to. Only the applications x86-64 toolchains emit are supported (absolute, pc-relative,
/// and data-relative to .eh_frame_hdr's start); anything else is reported as unsupported, never guessed.
/// </summary>
static class PointerEncoding
{
    public const byte Omit = 0xff;
    public const byte DatarelSdata4 = 0x3b;

    /// <summary>
    /// Reads a pointer encoded as <paramref name="encoding"/>. <paramref name="bufferAddress"/> is the virtual address
    /// of the cursor's first byte (for pc-relative values), <paramref name="dataBase"/> that of .eh_frame_hdr (for
    /// data-relative ones, or null where they make no sense). Returns false for an encoding it cannot apply; the
    /// cursor is still moved past the value, so a caller that only skips it can go on.
    /// </summary>
    public static bool TryRead(ref ByteCursor cursor, byte encoding, ulong bufferAddress, ulong? dataBase, out ulong value)
    {
        value = 0;
        if (encoding == Omit) return false;
        var fieldAddress = bufferAddress + (ulong)cursor.Position;
        ulong raw = (encoding & 0x0f) switch
        {
            0x00 => cursor.U64(), // absptr: 8 bytes on a 64-bit target
            0x01 => cursor.Uleb128(),
            0x02 => cursor.U16(),
            0x03 => cursor.U32(),
            0x04 => cursor.U64(),
            0x09 => (ulong)cursor.Sleb128(),
            0x0a => (ulong)(long)cursor.S16(),
            0x0b => (ulong)(long)cursor.S32(),
            0x0c => (ulong)cursor.S64(),
            _ => throw new InvalidDataException($"unknown pointer format 0x{encoding:x2}"),
        };
        switch (encoding & 0x70)
        {
            case 0x00:
                value = raw;
                break;
            case 0x10: // pcrel
                value = fieldAddress + raw;
                break;
            case 0x30 when dataBase is { } data: // datarel
                value = data + raw;
                break;
            default:
                return false;
        }
        // 0x80 (indirect) means the value is the address of the pointer: only personality routines use it, and
        // the unwinder never needs their value.
        return (encoding & 0x80) == 0;
    }

    /// <summary>Reads a value in the format of <paramref name="encoding"/> with no base applied (an FDE's address range).</summary>
    public static ulong ReadRaw(ref ByteCursor cursor, byte encoding)
    {
        var plain = (byte)(encoding & 0x0f);
        TryRead(ref cursor, plain, 0, null, out var value);
        return value;
    }
}
