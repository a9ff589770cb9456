using Microsoft.Win32.SafeHandles;

namespace Snapper.Sampling.Unwind;

/// <summary>
/// One ELF shared library or executable on disk, read with positioned reads (never memory-mapped: a file truncated
/// under a mapping would kill Snapper with SIGBUS). Only the headers are read on open; the unwind tables and the
/// symbol tables are read the first time they are needed (see <see cref="EhFrame"/>, <see cref="ElfSymbols"/>).
/// Only 64-bit little-endian x86-64 files are accepted: the unwinder knows that architecture's registers only.
/// </summary>
sealed class ElfFile : IDisposable
{
    public const uint PT_LOAD = 1;
    public const uint PT_GNU_EH_FRAME = 0x6474e550;
    const ushort EM_X86_64 = 62;
    const int MaxSectionBytes = 256 * 1024 * 1024;

    public readonly record struct Segment(uint Type, ulong Offset, ulong VirtualAddress, ulong FileSize, ulong MemorySize);
    public readonly record struct Section(string Name, uint Type, ulong Address, ulong Offset, ulong Size, uint Link, ulong EntrySize);

    readonly SafeFileHandle _file;
    readonly long _length;
    Section[]? _sections;
    readonly ulong _sectionHeaderOffset;
    readonly ushort _sectionHeaderSize, _sectionCount, _sectionNamesIndex;

    public string Path { get; }
    public IReadOnlyList<Segment> Segments { get; }

    ElfFile(string path, SafeFileHandle file, long length, Segment[] segments, ulong shoff, ushort shentsize, ushort shnum, ushort shstrndx)
    {
        Path = path;
        _file = file;
        _length = length;
        Segments = segments;
        _sectionHeaderOffset = shoff;
        _sectionHeaderSize = shentsize;
        _sectionCount = shnum;
        _sectionNamesIndex = shstrndx;
    }

    /// <summary>Opens <paramref name="path"/>; null when it is missing, unreadable, not ELF, or not x86-64.</summary>
    public static ElfFile? TryOpen(string path)
    {
        SafeFileHandle? file = null;
        try
        {
            file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = RandomAccess.GetLength(file);
            var header = new byte[64];
            if (RandomAccess.Read(file, header, 0) < 64) return Close(file);
            var h = new ByteCursor(header);
            if (h.U32() != 0x464c457f) return Close(file); // "\x7fELF"
            if (h.U8() != 2 || h.U8() != 1) return Close(file); // ELFCLASS64, little-endian
            h.Position = 18;
            if (h.U16() != EM_X86_64) return Close(file);
            h.Position = 32;
            var phoff = h.U64();
            var shoff = h.U64();
            h.Position = 54;
            var phentsize = h.U16();
            var phnum = h.U16();
            var shentsize = h.U16();
            var shnum = h.U16();
            var shstrndx = h.U16();
            if (phentsize < 56 || phnum > 4096) return Close(file);
            var table = ReadExactly(file, length, phoff, (ulong)(phentsize * phnum));
            var segments = new Segment[phnum];
            for (var i = 0; i < phnum; i++)
            {
                var p = new ByteCursor(table, i * phentsize);
                var type = p.U32();
                p.U32(); // flags
                var offset = p.U64();
                var vaddr = p.U64();
                p.U64(); // paddr
                segments[i] = new Segment(type, offset, vaddr, p.U64(), p.U64());
            }
            return new ElfFile(path, file, length, segments, shoff, shentsize, shnum, shstrndx);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
        {
            return Close(file);
        }
    }

    static ElfFile? Close(SafeFileHandle? file)
    {
        file?.Dispose();
        return null;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes at a file offset, or throws <see cref="InvalidDataException"/>.</summary>
    public byte[] Read(ulong offset, ulong count) => ReadExactly(_file, _length, offset, count);

    static byte[] ReadExactly(SafeFileHandle file, long length, ulong offset, ulong count)
    {
        if (count > MaxSectionBytes || offset > (ulong)length || count > (ulong)length - offset)
            throw new InvalidDataException($"range {offset}+{count} is outside the file");
        var bytes = new byte[count];
        var done = 0;
        while (done < bytes.Length)
        {
            var n = RandomAccess.Read(file, bytes.AsSpan(done), (long)offset + done);
            if (n <= 0) throw new InvalidDataException("the file ended early");
            done += n;
        }
        return bytes;
    }

    /// <summary>The section headers, read on first use; empty when the file has none (they are optional at run time).</summary>
    public IReadOnlyList<Section> Sections => _sections ??= ReadSections();

    public Section? FindSection(string name)
    {
        foreach (var section in Sections)
            if (section.Name == name) return section;
        return null;
    }

    Section[] ReadSections()
    {
        if (_sectionHeaderOffset == 0 || _sectionCount == 0 || _sectionHeaderSize < 64 || _sectionNamesIndex >= _sectionCount) return [];
        var table = Read(_sectionHeaderOffset, (ulong)_sectionHeaderSize * _sectionCount);
        var raw = new (uint Name, uint Type, ulong Address, ulong Offset, ulong Size, uint Link, ulong EntrySize)[_sectionCount];
        for (var i = 0; i < _sectionCount; i++)
        {
            var s = new ByteCursor(table, i * _sectionHeaderSize);
            var name = s.U32();
            var type = s.U32();
            s.U64(); // flags
            var address = s.U64();
            var offset = s.U64();
            var size = s.U64();
            var link = s.U32();
            s.U32(); // info
            s.U64(); // alignment
            raw[i] = (name, type, address, offset, size, link, s.U64());
        }
        var namesHeader = raw[_sectionNamesIndex];
        var names = Read(namesHeader.Offset, namesHeader.Size);
        var sections = new Section[_sectionCount];
        for (var i = 0; i < _sectionCount; i++)
        {
            var r = raw[i];
            var name = r.Name < names.Length ? NameAt(names, (int)r.Name) : "";
            sections[i] = new Section(name, r.Type, r.Address, r.Offset, r.Size, r.Link, r.EntrySize);
        }
        return sections;
    }

    static string NameAt(byte[] strings, int start)
    {
        var end = Array.IndexOf(strings, (byte)0, start);
        return System.Text.Encoding.ASCII.GetString(strings, start, (end < 0 ? strings.Length : end) - start);
    }

    /// <summary>The file offset holding virtual address <paramref name="address"/>, from the loadable segments.</summary>
    public ulong? FileOffsetOf(ulong address)
    {
        foreach (var s in Segments)
            if (s.Type == PT_LOAD && address >= s.VirtualAddress && address - s.VirtualAddress < s.FileSize)
                return s.Offset + (address - s.VirtualAddress);
        return null;
    }

    /// <summary>
    /// What to subtract from a target address to get the file's virtual address, for a mapping of this file that
    /// starts at <paramref name="mappingStart"/> with file offset <paramref name="mappingOffset"/> (both from
    /// /proc/PID/maps); null when no loadable segment covers that offset.
    /// </summary>
    public ulong? LoadBias(ulong mappingStart, ulong mappingOffset)
    {
        // The kernel maps each segment from its file offset rounded down to a page, so segments that share a page
        // of the file (common with lld) both cover that offset: the one whose mapping starts there is the one.
        // A mapping split later (mprotect) starts inside its segment: then take the last segment holding it.
        Segment? holding = null;
        foreach (var s in Segments)
        {
            if (s.Type != PT_LOAD) continue;
            if ((s.Offset & ~0xfffUL) == mappingOffset) return Bias(s);
            if (mappingOffset > s.Offset && mappingOffset < s.Offset + s.FileSize) holding = s;
        }
        return holding is { } segment ? Bias(segment) : null;

        // The address the mapping's first byte has in the file's address space (wraps correctly when the mapping
        // starts before the segment's first byte, in the same page).
        ulong Bias(Segment s) => mappingStart - (s.VirtualAddress - (s.Offset - mappingOffset));
    }

    public void Dispose() => _file.Dispose();
}
