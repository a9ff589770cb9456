namespace Snapper.Sampling.Linux;

/// <summary>
/// The target's executable mappings, to tell at a glance whether an address can be managed code (JIT'd code lives
/// in anonymous memory, or with W^X in a "/memfd:doublemapper" mapping; ReadyToRun code in mapped .dll files) and
/// which library native code is in.
/// Code heaps grow as methods are compiled, so the list is re-read when an address falls in no known region,
/// at most once a second.
/// </summary>
sealed class ExecutableRegions(int pid)
{
    readonly record struct Region(ulong Start, ulong End, string? File, string? Path, ulong Offset);

    /// <summary>A file-backed executable mapping: where it starts, its file offset, and the file's path as the target sees it.</summary>
    public readonly record struct FileMapping(ulong Start, ulong Offset, string Path);

    static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    /// <summary>How far beyond the runtime's generated code a new page of it may appear (new reservations lie near the old).</summary>
    const ulong NewCodeSlack = 256UL << 20;

    Region[] _regions = [];
    (ulong Start, ulong End)[] _data = []; // readable or writable mappings that are not executable, as last read
    (ulong Start, ulong End)[] _notExecutable = []; // every mapping that is not executable (data and reservations), as last read
    ulong _generatedLow, _generatedHigh; // the span of the runtime's generated code (memfd or anonymous) as last read
    ulong _lowestMapped; // the lowest address of any mapping as last read
    long? _readAt;

    /// <summary>The file name of the mapping holding <paramref name="address"/>, "anonymous memory", or null when unmapped.</summary>
    public string? ModuleOf(ulong address) => Find(address) is { } region ? region.File ?? AnonymousMemory : null;

    /// <summary>True when the address is executable memory that can hold managed code.</summary>
    public bool MayBeManagedCode(ulong address) => Find(address) is { } region && MayHoldManagedCode(region);

    /// <summary>
    /// <see cref="MayBeManagedCode"/> for a word read from a stack, most of which are no code address at all: a word in a
    /// mapping that was not executable as last read (a heap pointer, the GC's reserved space), below every mapping (a
    /// count, a length) or beyond user space reads the mappings again for none of them (code committed since in the
    /// runtime's reserved space is <see cref="MayBeNewCode"/>'s to tell). A word in no mapping at all still may (at most
    /// once a second, as <see cref="MayBeManagedCode"/>): a library loaded since could hold it. Scanning native leaves'
    /// stacks, every unknown word re-read the target's 1,700 mappings once a second (2.7% of Snapper's CPU on ShopService
    /// under load).
    /// </summary>
    public bool MayBeManagedCodeInStack(ulong address)
    {
        if (_readAt is null) Refresh();
        if (Search(address) is { } known) return MayHoldManagedCode(known);
        if (address < _lowestMapped || address > UserSpaceEnd || In(_notExecutable, address)) return false;
        return MayBeManagedCode(address);
    }

    const ulong UserSpaceEnd = 0x7FFF_FFFF_FFFF;

    /// <summary>
    /// True when the address is in a native library's code as last read, without reading the mappings again. An
    /// address in no known mapping is not native: the code heap may have grown since (with W^X, each newly committed
    /// page of code is a new mapping), and a miss here must not make new managed code look native. The mappings are read
    /// before the first answer: until some other question read them, every return address into the runtime's native
    /// code (the base of every managed thread) looked like unknown code, and each thread of a capture's first seconds
    /// was walked by the DAC (~50 walks on ShopService, 10-20 ms each).
    /// </summary>
    public bool InNativeLibrary(ulong address)
    {
        if (_readAt is null) Refresh();
        return Search(address) is { } region && !MayHoldManagedCode(region);
    }

    /// <summary>
    /// True when the address is in no executable mapping as last read (without reading them again) but where the
    /// runtime's generated code lies or grows: from a little below its lowest such mapping to a little above its highest. Such an
    /// address may be code committed since the list was read (with W^X each new page of code is a new mapping): a
    /// return address there looks like no code until the list is read again. An address in memory that was readable
    /// or writable data (the GC heap, the loader heaps, W^X's writable view of code) is not: the runtime commits new code
    /// in unmapped or reserved (PROT_NONE) space, never in data. Without that rule every pointer into the heap on a
    /// stopped thread's stack re-read the target's 1,700 mappings, up to 50 times a second (7.5% of Snapper's CPU on
    /// ShopService under load, measured with perf at a000f50; 474 of 593 such reads were for heap pointers).
    /// </summary>
    public bool MayBeNewCode(ulong address) =>
        _generatedHigh > 0 && address >= SaturatingSub(_generatedLow, NewCodeSlack) && address < SaturatingAdd(_generatedHigh, NewCodeSlack)
        && Search(address) is null && !InData(address);

    bool InData(ulong address) => In(_data, address);

    static bool In((ulong Start, ulong End)[] ranges, ulong address)
    {
        int lo = 0, hi = ranges.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (address < ranges[mid].Start) hi = mid - 1;
            else if (address >= ranges[mid].End) lo = mid + 1;
            else return true;
        }
        return false;
    }

    static ulong SaturatingSub(ulong a, ulong b) => a > b ? a - b : 0;

    static ulong SaturatingAdd(ulong a, ulong b) => a > ulong.MaxValue - b ? ulong.MaxValue : a + b;

    /// <summary>
    /// Reads the mappings again unless that was done in the last few milliseconds: for a stopped thread whose stack
    /// holds an address where new code may lie (<see cref="MayBeNewCode"/>), so that a return address into a page of
    /// code committed since the last read is known for what it is.
    /// </summary>
    public void RefreshForNewCode()
    {
        if (_readAt is { } readAt && Environment.TickCount64 - readAt < NewCodeRefreshMs) return;
        Refresh();
    }

    const int NewCodeRefreshMs = 20;

    /// <summary>Code the runtime generated: anonymous memory, or with W^X a "memfd:doublemapper" mapping (the name <see cref="ModuleOf"/> gives it).</summary>
    public static bool IsGeneratedCode(string? file) =>
        file is null or AnonymousMemory || file.StartsWith("memfd:", StringComparison.Ordinal);

    const string AnonymousMemory = "anonymous memory";

    static bool MayHoldManagedCode(Region region) =>
        region.File is not { } file || IsGeneratedCode(file) || file.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);

    /// <summary>The file-backed executable mapping holding <paramref name="address"/>; null for anonymous or unmapped memory.</summary>
    public FileMapping? FileMappingOf(ulong address) =>
        Find(address) is { Path: { } path } region ? new FileMapping(region.Start, region.Offset, path) : null;

    Region? Find(ulong address)
    {
        if (Search(address) is { } hit) return hit;
        if (_readAt is { } readAt && Environment.TickCount64 - readAt < RefreshInterval.TotalMilliseconds) return null;
        Refresh();
        return Search(address);
    }

    Region? Search(ulong address)
    {
        int lo = 0, hi = _regions.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (address < _regions[mid].Start) hi = mid - 1;
            else if (address >= _regions[mid].End) lo = mid + 1;
            else return _regions[mid];
        }
        return null;
    }

    void Refresh()
    {
        _readAt = Environment.TickCount64;
        var regions = new List<Region>();
        var data = new List<(ulong, ulong)>();
        var notExecutable = new List<(ulong, ulong)>();
        try
        {
            foreach (var mapping in ProcFs.ReadMappings(pid))
            {
                if (mapping.Permissions.Length < 3) continue;
                if (mapping.Permissions[2] != 'x')
                {
                    notExecutable.Add((mapping.Start, mapping.End));
                    if (mapping.Permissions[0] == 'r' || mapping.Permissions[1] == 'w') data.Add((mapping.Start, mapping.End));
                    continue;
                }
                var file = mapping.Path.StartsWith('/') ? mapping.Path : null;
                // The kernel's own pages ([vdso], [vsyscall]) are native code, named as the kernel names them. Taken for
                // anonymous memory, [vsyscall] at the top of the address space stretched the span of generated code
                // to it, the span's slack wrapped around, and no return address ever looked like new code: walks without
                // a stop passed over freshly compiled methods (ReuseVerificationTests on ShopService under load).
                var name = file is null ? mapping.Path.StartsWith('[') ? mapping.Path : null : System.IO.Path.GetFileName(file);
                regions.Add(new Region(mapping.Start, mapping.End, name, file, mapping.Offset));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The target is going away; the next sample finds out.
        }
        _regions = regions.ToArray();
        _data = data.ToArray();
        _notExecutable = notExecutable.ToArray();
        _lowestMapped = Math.Min(_regions.Length > 0 ? _regions[0].Start : ulong.MaxValue, _notExecutable.Length > 0 ? _notExecutable[0].Start : ulong.MaxValue);
        var generated = _regions.Where(r => IsGeneratedCode(r.File)).ToList();
        (_generatedLow, _generatedHigh) = generated.Count == 0 ? (0UL, 0UL) : (generated.Min(r => r.Start), generated.Max(r => r.End));
    }
}
