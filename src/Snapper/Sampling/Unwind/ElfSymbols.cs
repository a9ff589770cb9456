namespace Snapper.Sampling.Unwind;

/// <summary>
/// The function symbols of an ELF file (.symtab when the file has one, and .dynsym), sorted by address, for naming
/// the function an address is in. Names stay bytes until asked for; each is read from a file Snapper does not
/// control, so it is cut short and stripped of control characters before it becomes a frame name.
/// </summary>
sealed class ElfSymbols
{
    const uint SHT_SYMTAB = 2, SHT_DYNSYM = 11;
    const int STT_FUNC = 2, STT_GNU_IFUNC = 10;
    const int MaxNameLength = 256;

    readonly record struct Symbol(ulong Address, ulong Size, int Table, uint NameOffset, byte Rank);

    readonly List<byte[]> _stringTables;
    readonly Symbol[] _symbols;

    ElfSymbols(Symbol[] symbols, List<byte[]> stringTables)
    {
        _symbols = symbols;
        _stringTables = stringTables;
    }

    public static ElfSymbols Empty { get; } = new([], []);

    public int Count => _symbols.Length;

    /// <summary>Reads the symbol tables; an unreadable table is left out rather than failing the file.</summary>
    public static ElfSymbols Read(ElfFile elf)
    {
        var symbols = new List<Symbol>();
        var strings = new List<byte[]>();
        var sections = elf.Sections;
        foreach (var section in sections)
        {
            if (section.Type is not (SHT_SYMTAB or SHT_DYNSYM) || section.Link >= sections.Count) continue;
            try
            {
                var table = elf.Read(section.Offset, section.Size);
                var names = elf.Read(sections[(int)section.Link].Offset, sections[(int)section.Link].Size);
                var tableIndex = strings.Count;
                strings.Add(names);
                var entry = section.EntrySize >= 24 ? (int)section.EntrySize : 24;
                for (var at = 0; at + 24 <= table.Length; at += entry)
                {
                    var c = new ByteCursor(table, at);
                    var name = c.U32();
                    var info = c.U8();
                    c.U8(); // other
                    var sectionIndex = c.U16();
                    var value = c.U64();
                    var size = c.U64();
                    var type = info & 0xf;
                    if (type is not (STT_FUNC or STT_GNU_IFUNC) || sectionIndex == 0 || value == 0 || name == 0) continue;
                    symbols.Add(new Symbol(value, size, tableIndex, name, Rank(info >> 4, names, name)));
                }
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                // a damaged table: name what the others can
            }
        }
        // By address; among aliases of one address, the best-ranked name first.
        symbols.Sort((a, b) => a.Address != b.Address ? a.Address.CompareTo(b.Address) : a.Rank.CompareTo(b.Rank));
        return new ElfSymbols(symbols.ToArray(), strings);
    }

    /// <summary>
    /// Among aliases (recvmsg, __recvmsg, __libc_recvmsg), prefer a global name, then fewer leading underscores:
    /// the name a reader would have called.
    /// </summary>
    static byte Rank(int binding, byte[] names, uint offset)
    {
        var bindingRank = binding switch { 1 => 0, 2 => 1, _ => 2 }; // GLOBAL, WEAK, LOCAL
        var underscores = 0;
        for (var i = (int)offset; i < names.Length && names[i] == (byte)'_' && underscores < 9; i++) underscores++;
        return (byte)(bindingRank * 10 + underscores);
    }

    /// <summary>
    /// The function holding file virtual address <paramref name="address"/>: the nearest symbol at or below it that
    /// covers it (a symbol without a size covers up to the next one). Null when none does.
    /// </summary>
    public string? NameOf(ulong address)
    {
        int lo = 0, hi = _symbols.Length - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_symbols[mid].Address <= address) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        if (found < 0) return null;
        var address0 = _symbols[found].Address;
        while (found > 0 && _symbols[found - 1].Address == address0) found--; // the best-ranked alias
        // An alias with a size may cover it where the first one found has none, or the other way round.
        for (var i = found; i < _symbols.Length && _symbols[i].Address == address0; i++)
        {
            var s = _symbols[i];
            if (s.Size == 0 || address - s.Address < s.Size) return NameAt(s);
        }
        return null;
    }

    /// <summary>The address of a symbol by exact name, or null (for tests and diagnostics: a linear search).</summary>
    public ulong? AddressOf(string name)
    {
        foreach (var s in _symbols)
            if (NameAt(s) == name) return s.Address;
        return null;
    }

    string NameAt(Symbol symbol)
    {
        var strings = _stringTables[symbol.Table];
        var start = (int)Math.Min(symbol.NameOffset, (uint)strings.Length);
        var end = Array.IndexOf(strings, (byte)0, start);
        if (end < 0) end = strings.Length;
        var length = Math.Min(end - start, MaxNameLength);
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            var b = strings[start + i];
            chars[i] = b is >= 0x21 and < 0x7f ? (char)b : '?'; // printable ASCII only: the name is untrusted
        }
        return new string(chars);
    }
}
