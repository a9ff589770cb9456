using System.Globalization;

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
    Region[] _regions = [];
    long? _readAt;

    /// <summary>The file name of the mapping holding <paramref name="address"/>, "anonymous memory", or null when unmapped.</summary>
    public string? ModuleOf(ulong address) => Find(address) is { } region ? region.File ?? "anonymous memory" : null;

    /// <summary>True when the address is executable memory that can hold managed code.</summary>
    public bool MayBeManagedCode(ulong address) => Find(address) is { } region && MayHoldManagedCode(region);

    /// <summary>
    /// True when the address is in a native library's code as last read, without reading the mappings again. An
    /// address in no known mapping is not native: the code heap may have grown since (with W^X, each newly committed
    /// page of code is a new mapping), and a miss here must not make new managed code look native.
    /// </summary>
    public bool InNativeLibrary(ulong address) => Search(address) is { } region && !MayHoldManagedCode(region);

    static bool MayHoldManagedCode(Region region) =>
        region.File is null || region.File.StartsWith("memfd:", StringComparison.Ordinal)
        || region.File.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);

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
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/maps"))
            {
                // 7f2e67a00000-7f2e67a28000 r-xp 00000000 fe:01 1234  /usr/lib/x86_64-linux-gnu/libm.so.6
                var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 5 || parts[1].Length < 3 || parts[1][2] != 'x') continue;
                var dash = parts[0].IndexOf('-');
                var start = ulong.Parse(parts[0].AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var end = ulong.Parse(parts[0].AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var path = parts.Length == 6 ? parts[5].Trim() : "";
                var offset = ulong.Parse(parts[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var file = path.StartsWith('/') ? path : null;
                regions.Add(new Region(start, end, file is null ? null : System.IO.Path.GetFileName(file), file, offset));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The target is going away; the next sample finds out.
        }
        _regions = regions.ToArray();
    }
}
