using System.Runtime.InteropServices;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Reads another process's memory with process_vm_readv through a 4 KiB page cache that is valid for one
/// snapshot only (<see cref="Flush"/> between snapshots): the DAC reads the same few pages over and over while
/// it walks, so ~1,600 small reads become ~110 syscalls. Pages of memory that cannot change (see
/// <see cref="ImmutableMappings"/>) are kept across snapshots. Never throws: a failed read returns 0 bytes, because
/// callers run inside the DAC's native callbacks.
/// </summary>
sealed unsafe class ProcessMemory : ITargetMemory, IDisposable
{
    const int PageSize = 4096;

    // Bounds on Snapper's footprint (RssAnon, issue 20). A snapshot's walks read a few hundred pages; reading the
    // managed thread names reads thousands of the target's heap once each, so past 4 MiB the cache starts again.
    // Pages a snapshot let go are kept for the next only up to MaxFreePages: a name read's thousands held on, as a
    // step of 5 MiB at the first one (the pool never shrank). What is kept across snapshots (code and read-only
    // data of images) settled at ~2,600 pages on ShopService under load.
    const int MaxCachedPages = 1024, MaxFreePages = 256, MaxLastingPages = 4096;

    readonly int _pid;
    readonly Dictionary<ulong, byte[]?> _pages = new(); // null value: known unreadable page
    readonly Stack<byte[]> _freePages = new();
    readonly Dictionary<ulong, byte[]> _lasting = new();
    readonly ImmutableMappings _immutable;

    public ProcessMemory(int pid)
    {
        _pid = pid;
        _immutable = new ImmutableMappings(pid);
        _immutable.RefreshIfDue();
    }

    public long SyscallCount { get; private set; }

    /// <summary>Forgets what was read of memory that can change: before each snapshot's reads.</summary>
    public void Flush()
    {
        foreach (var page in _pages.Values)
            if (page is not null && _freePages.Count < MaxFreePages) _freePages.Push(page);
        _pages.Clear();
    }

    /// <summary>
    /// Re-reads which memory cannot change, when due, and drops the pages kept across snapshots if that changed. Reads
    /// /proc (a millisecond on a big process): call while the target runs, never while it is held.
    /// </summary>
    public void RefreshLasting()
    {
        if (_immutable.RefreshIfDue()) _lasting.Clear();
    }

    public int Read(ulong address, Span<byte> buffer)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var current = address + (ulong)done;
            var pageAddress = current & ~(ulong)(PageSize - 1);
            var page = GetPage(pageAddress);
            if (page is null)
                return done > 0 ? done : ReadDirect(current, buffer[done..]);
            var offset = (int)(current - pageAddress);
            var n = Math.Min(PageSize - offset, buffer.Length - done);
            page.AsSpan(offset, n).CopyTo(buffer[done..]);
            done += n;
        }
        return done;
    }

    byte[]? GetPage(ulong pageAddress)
    {
        if (_pages.TryGetValue(pageAddress, out var cached)) return cached;
        if (_lasting.TryGetValue(pageAddress, out var lasting)) return lasting;
        if (_lasting.Count < MaxLastingPages && _immutable.Contains(pageAddress, PageSize))
        {
            var kept = new byte[PageSize];
            if (ReadDirect(pageAddress, kept) == PageSize)
            {
                _lasting[pageAddress] = kept;
                return kept;
            }
        }
        if (_pages.Count >= MaxCachedPages) Flush();
        var page = _freePages.Count > 0 ? _freePages.Pop() : new byte[PageSize];
        if (ReadDirect(pageAddress, page) != PageSize)
        {
            if (_freePages.Count < MaxFreePages) _freePages.Push(page);
            _pages[pageAddress] = null;
            return null;
        }
        _pages[pageAddress] = page;
        return page;
    }

    /// <summary>A read that bypasses the per-snapshot cache (for memory read while the target runs).</summary>
    public int ReadUncached(ulong address, Span<byte> buffer) => ReadDirect(address, buffer);

    /// <summary>
    /// Several ranges read uncached, one after another into <paramref name="buffer"/>, in one system call; returns the
    /// bytes read, which stop short at the first range that is not fully mapped.
    /// </summary>
    public int ReadUncached(List<(ulong From, int Extent)> ranges, Span<byte> buffer)
    {
        if (buffer.IsEmpty || ranges.Count == 0) return 0;
        var remote = ranges.Count <= 64 ? stackalloc Native.IoVec[ranges.Count] : new Native.IoVec[ranges.Count];
        for (var i = 0; i < ranges.Count; i++) remote[i] = new Native.IoVec { Base = (nint)ranges[i].From, Length = (nuint)ranges[i].Extent };
        fixed (byte* p = buffer)
        fixed (Native.IoVec* remoteVectors = remote)
        {
            var local = new Native.IoVec { Base = (nint)p, Length = (nuint)buffer.Length };
            SyscallCount++;
            var n = Native.ProcessVmReadv(_pid, &local, 1, remoteVectors, (nuint)ranges.Count, 0);
            return n < 0 ? 0 : (int)n;
        }
    }

    /// <summary>One uncached read; a partly mapped range returns what could be read.</summary>
    int ReadDirect(ulong address, Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        fixed (byte* p = buffer)
        {
            var local = new Native.IoVec { Base = (nint)p, Length = (nuint)buffer.Length };
            var remote = new Native.IoVec { Base = (nint)address, Length = (nuint)buffer.Length };
            SyscallCount++;
            var n = Native.ProcessVmReadv(_pid, &local, 1, &remote, 1, 0);
            return n < 0 ? 0 : (int)n;
        }
    }

    public void Dispose()
    {
        Flush();
        _lasting.Clear();
    }
}
