namespace Snapper.Sampling.Unwind;

/// <summary>
/// A Common Information Entry: what the FDEs that point at it share. <see cref="Supported"/> is false for an
/// augmentation the unwinder does not understand (then its FDEs cannot be used: an unknown letter may change
/// what the instructions mean).
/// </summary>
sealed record Cie(bool Supported, ulong CodeAlignment, long DataAlignment, int ReturnAddressRegister, byte FdeEncoding,
    bool HasAugmentationData, bool IsSignalFrame, int InstructionsStart, int InstructionsEnd);

/// <summary>A Frame Description Entry: the unwind instructions for the code in [PcBegin, PcEnd).</summary>
readonly record struct Fde(Cie Cie, ulong PcBegin, ulong PcEnd, int InstructionsStart, int InstructionsEnd);

/// <summary>
/// A file's .eh_frame, found through .eh_frame_hdr's sorted table (a binary search per lookup) or, when the file
/// has no usable header, through a table built once by scanning every entry. Addresses are the file's virtual
/// addresses. Read once per file and session.
/// </summary>
sealed class EhFrame
{
    readonly byte[] _frames;
    readonly ulong _framesAddress;
    readonly byte[]? _header;
    readonly ulong _headerAddress;
    readonly int _tableStart, _tableCount;
    readonly (ulong Pc, int Offset)[]? _scanned;
    readonly Dictionary<int, Cie> _cies = new();

    EhFrame(byte[] frames, ulong framesAddress, byte[]? header, ulong headerAddress, int tableStart, int tableCount)
    {
        _frames = frames;
        _framesAddress = framesAddress;
        _header = header;
        _headerAddress = headerAddress;
        _tableStart = tableStart;
        _tableCount = tableCount;
        if (header is null) _scanned = Scan();
    }

    /// <summary>How the lookups are made, for tests: "header" or "scan".</summary>
    public string Index => _header is null ? "scan" : "header";

    public ReadOnlySpan<byte> Bytes => _frames;
    public ulong Address => _framesAddress;

    /// <summary>Loads the unwind tables of <paramref name="elf"/>; null when it has none. Throws InvalidDataException when they are damaged.</summary>
    public static EhFrame? Load(ElfFile elf, bool preferScan = false)
    {
        var hdrSegment = elf.Segments.FirstOrDefault(s => s.Type == ElfFile.PT_GNU_EH_FRAME);
        if (!preferScan && hdrSegment.FileSize >= 12)
        {
            var header = elf.Read(hdrSegment.Offset, hdrSegment.FileSize);
            var c = new ByteCursor(header);
            var version = c.U8();
            var framePointerEncoding = c.U8();
            var countEncoding = c.U8();
            var tableEncoding = c.U8();
            if (version == 1 && PointerEncoding.TryRead(ref c, framePointerEncoding, hdrSegment.VirtualAddress, hdrSegment.VirtualAddress, out var framesAddress))
            {
                var frames = ReadFrames(elf, framesAddress);
                if (frames is null) return null;
                // The table is binary-searched in place when its entries have the fixed size x86-64 linkers use.
                if (PointerEncoding.TryRead(ref c, countEncoding, hdrSegment.VirtualAddress, hdrSegment.VirtualAddress, out var count)
                    && tableEncoding == PointerEncoding.DatarelSdata4 && count <= (ulong)(header.Length - c.Position) / 8)
                    return new EhFrame(frames, framesAddress, header, hdrSegment.VirtualAddress, c.Position, (int)count);
                return new EhFrame(frames, framesAddress, null, 0, 0, 0);
            }
        }
        if (elf.FindSection(".eh_frame") is not { Size: > 0 } section) return null;
        return new EhFrame(elf.Read(section.Offset, section.Size), section.Address, null, 0, 0, 0);
    }

    /// <summary>The .eh_frame bytes at <paramref name="address"/>: the section when there is one, else up to the segment's end.</summary>
    static byte[]? ReadFrames(ElfFile elf, ulong address)
    {
        if (elf.FindSection(".eh_frame") is { Size: > 0 } section && section.Address == address)
            return elf.Read(section.Offset, section.Size);
        foreach (var s in elf.Segments)
            if (s.Type == ElfFile.PT_LOAD && address >= s.VirtualAddress && address - s.VirtualAddress < s.FileSize)
                return elf.Read(s.Offset + (address - s.VirtualAddress), s.FileSize - (address - s.VirtualAddress));
        return null;
    }

    /// <summary>The FDE covering <paramref name="pc"/>, or null. Throws InvalidDataException on a damaged entry.</summary>
    public Fde? Find(ulong pc)
    {
        var offset = _header is null ? FindScanned(pc) : FindInHeader(pc);
        if (offset < 0) return null;
        var fde = ParseFde(offset);
        return fde is { } f && pc >= f.PcBegin && pc < f.PcEnd ? f : null;
    }

    int FindInHeader(ulong pc)
    {
        int lo = 0, hi = _tableCount - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (TableEntry(mid).Pc <= pc) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        if (found < 0) return -1;
        var fdeAddress = TableEntry(found).Fde;
        var offset = fdeAddress - _framesAddress;
        return fdeAddress >= _framesAddress && offset < (ulong)_frames.Length ? (int)offset : -1;
    }

    (ulong Pc, ulong Fde) TableEntry(int index)
    {
        var c = new ByteCursor(_header, _tableStart + index * 8);
        var pc = _headerAddress + (ulong)(long)c.S32();
        return (pc, _headerAddress + (ulong)(long)c.S32());
    }

    int FindScanned(ulong pc)
    {
        var table = _scanned!;
        int lo = 0, hi = table.Length - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (table[mid].Pc <= pc) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? -1 : table[found].Offset;
    }

    /// <summary>Every FDE's start address and offset, sorted: the index a file without .eh_frame_hdr lacks.</summary>
    (ulong Pc, int Offset)[] Scan()
    {
        var entries = new List<(ulong, int)>();
        var at = 0;
        while (at + 4 <= _frames.Length)
        {
            var (length, bodyStart) = EntryLength(at);
            if (length == 0) break; // terminator
            var next = (ulong)bodyStart + length;
            if (next > (ulong)_frames.Length) break;
            var c = new ByteCursor(_frames, bodyStart);
            if (c.U32() != 0 && ParseFde(at) is { } fde) entries.Add((fde.PcBegin, at));
            at = (int)next;
        }
        entries.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return entries.ToArray();
    }

    /// <summary>An entry's length and where its body (after the length field) starts.</summary>
    (ulong Length, int BodyStart) EntryLength(int at)
    {
        var c = new ByteCursor(_frames, at);
        ulong length = c.U32();
        if (length == 0xffffffff) length = c.U64();
        return (length, c.Position);
    }

    Fde? ParseFde(int at)
    {
        var (length, bodyStart) = EntryLength(at);
        var end = (ulong)bodyStart + length;
        if (length == 0 || end > (ulong)_frames.Length) return null;
        var c = new ByteCursor(_frames.AsSpan(0, (int)end), bodyStart);
        var ciePointer = c.U32();
        if (ciePointer == 0) return null; // a CIE, not an FDE
        var cieOffset = (long)bodyStart - ciePointer;
        if (cieOffset < 0) return null;
        var cie = CieAt((int)cieOffset);
        if (cie is null) return null;
        if (!cie.Supported) return new Fde(cie, 0, 0, 0, 0);
        if (!PointerEncoding.TryRead(ref c, cie.FdeEncoding, _framesAddress, null, out var pcBegin)) return new Fde(cie with { Supported = false }, 0, 0, 0, 0);
        var range = PointerEncoding.ReadRaw(ref c, cie.FdeEncoding);
        if (cie.HasAugmentationData)
        {
            var augmentationLength = c.Uleb128();
            if (augmentationLength > (ulong)(c.Length - c.Position)) return null;
            c.Position += (int)augmentationLength;
        }
        return new Fde(cie, pcBegin, pcBegin + range, c.Position, (int)end);
    }

    Cie? CieAt(int at)
    {
        if (_cies.TryGetValue(at, out var cached)) return cached;
        var cie = ParseCie(at);
        if (cie is not null) _cies[at] = cie;
        return cie;
    }

    Cie? ParseCie(int at)
    {
        var (length, bodyStart) = EntryLength(at);
        var end = (ulong)bodyStart + length;
        if (length == 0 || end > (ulong)_frames.Length) return null;
        var c = new ByteCursor(_frames.AsSpan(0, (int)end), bodyStart);
        if (c.U32() != 0) return null; // not a CIE
        var version = c.U8();
        var unsupported = new Cie(false, 1, 1, 16, 0, false, false, 0, 0);
        if (version is not (1 or 3 or 4)) return unsupported;
        var augmentation = c.CString();
        if (version == 4)
        {
            if (c.U8() != 8 || c.U8() != 0) return unsupported; // address size, segment selector size
        }
        var codeAlignment = c.Uleb128();
        var dataAlignment = c.Sleb128();
        var returnRegister = version == 1 ? c.U8() : (int)Math.Min(c.Uleb128(), int.MaxValue);
        byte fdeEncoding = 0; // absptr unless 'R' says otherwise
        var hasData = false;
        var signal = false;
        if (augmentation.Length > 0)
        {
            if (augmentation[0] != (byte)'z') return unsupported; // e.g. the ancient "eh": a layout we do not read
            hasData = true;
            var dataLength = c.Uleb128();
            if (dataLength > (ulong)(c.Length - c.Position)) return null;
            var dataEnd = c.Position + (int)dataLength;
            foreach (var letter in augmentation[1..])
            {
                switch ((char)letter)
                {
                    case 'R':
                        fdeEncoding = c.U8();
                        break;
                    case 'L':
                        c.U8(); // the LSDA's encoding: the LSDA itself is for exception handling, not unwinding
                        break;
                    case 'P':
                        var personalityEncoding = c.U8();
                        PointerEncoding.TryRead(ref c, personalityEncoding, _framesAddress, null, out _);
                        break;
                    case 'S':
                        signal = true;
                        break;
                    default:
                        return unsupported;
                }
            }
            c.Position = dataEnd;
        }
        return new Cie(true, codeAlignment, dataAlignment, returnRegister, fdeEncoding, hasData, signal, c.Position, (int)end);
    }
}
