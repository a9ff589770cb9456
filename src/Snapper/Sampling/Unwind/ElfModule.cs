namespace Snapper.Sampling.Unwind;

/// <summary>
/// What the unwinder knows about one library of the target, for the whole session: its file, its unwind tables
/// and its symbols, each read the first time it is needed, and the unwind row of every pc met so far (a steady
/// state, where threads stop in the same few places, finds every row here).
/// </summary>
sealed class ElfModule : IDisposable
{
    const int MaxCachedRows = 65536;

    /// <summary>Why no row was found for a pc.</summary>
    public enum RowStatus
    {
        Found,
        /// <summary>No FDE covers the pc (hand-written code without CFI, or the end of the tables).</summary>
        NoFde,
        /// <summary>The file has no usable unwind tables at all, or they use an augmentation or instruction not supported.</summary>
        Unsupported,
    }

    readonly ElfFile? _elf;
    readonly bool _unwindDisabled;
    EhFrame? _frames;
    bool _framesRead;
    ElfSymbols? _symbols;
    readonly Dictionary<ulong, (RowStatus, UnwindRow?)> _rows = new();

    /// <summary>The library's file name as the target sees it: "libc.so.6".</summary>
    public string Name { get; }

    /// <param name="hostPath">Where Snapper can open the file (see TargetProcess.HostPathOf).</param>
    /// <param name="unwindDisabled">Behave as if the file had no unwind tables (the fallback test's switch).</param>
    public ElfModule(string name, string hostPath, bool unwindDisabled)
    {
        Name = name;
        _elf = ElfFile.TryOpen(hostPath);
        _unwindDisabled = unwindDisabled;
    }

    public ElfFile? File => _elf;

    /// <summary>The unwind row for file address <paramref name="address"/>, cached.</summary>
    public RowStatus TryGetRow(ulong address, out UnwindRow? row)
    {
        if (_rows.TryGetValue(address, out var cached))
        {
            row = cached.Item2;
            return cached.Item1;
        }
        var status = FindRow(address, out row);
        if (_rows.Count >= MaxCachedRows) _rows.Clear();
        _rows[address] = (status, row);
        return status;
    }

    RowStatus FindRow(ulong address, out UnwindRow? row)
    {
        row = null;
        if (Frames() is not { } frames) return RowStatus.Unsupported;
        try
        {
            if (frames.Find(address) is not { } fde) return RowStatus.NoFde;
            row = CfiInterpreter.RowFor(frames, fde, address);
            return row is null ? RowStatus.Unsupported : RowStatus.Found;
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return RowStatus.Unsupported;
        }
    }

    EhFrame? Frames()
    {
        if (_framesRead) return _frames;
        _framesRead = true;
        if (_elf is null || _unwindDisabled) return null;
        try
        {
            _frames = EhFrame.Load(_elf);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            _frames = null;
        }
        return _frames;
    }

    /// <summary>
    /// Where the function holding <paramref name="address"/> starts, from the unwind entry that covers it (compilers
    /// emit one per function), or null: names a function of a stripped library by one address, whatever the pc.
    /// </summary>
    public ulong? FunctionStartOf(ulong address)
    {
        try
        {
            return Frames()?.Find(address)?.PcBegin;
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return null;
        }
    }

    /// <summary>The function at file address <paramref name="address"/>, or null when no symbol covers it.</summary>
    public string? FunctionAt(ulong address)
    {
        if (_elf is null) return null;
        if (_symbols is null)
        {
            try
            {
                _symbols = ElfSymbols.Read(_elf);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                _symbols = ElfSymbols.Empty; // unreadable section headers: the frame is named by offset
            }
        }
        return _symbols.NameOf(address);
    }

    public void Dispose() => _elf?.Dispose();
}
