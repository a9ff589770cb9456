namespace Snapper.Sampling.Linux;

/// <summary>
/// The parts of a process's memory that cannot change while they stay mapped: files mapped without write permission
/// (images' code and read-only data, assemblies). On a web service more than half of the pages a snapshot read
/// were such (95,000 of 200,000 in 8 s from System.Private.CoreLib's code alone: unwind data and code headers the
/// walks look up), read again at every snapshot. Not memfd mappings (the runtime's double-mapped code, writable
/// through its other view) nor deleted files. The list is read again every few seconds; when it changed (a library
/// loaded or unloaded), pages kept from the old one are dropped (see <see cref="ProcessMemory"/>).
/// </summary>
sealed class ImmutableMappings(int pid)
{
    static readonly TimeSpan RereadEvery = TimeSpan.FromSeconds(5);

    (ulong Start, ulong End)[] _ranges = [];
    long _readAt = long.MinValue;

    /// <summary>Reads the list again when due; true when it is not the one read before.</summary>
    public bool RefreshIfDue()
    {
        var now = Environment.TickCount64;
        if (_readAt != long.MinValue && now - _readAt < RereadEvery.TotalMilliseconds) return false;
        _readAt = now;
        (ulong, ulong)[] ranges;
        try
        {
            ranges = ProcFs.ReadMappings(pid).Where(IsImmutable).Select(m => (m.Start, m.End)).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            ranges = []; // unreadable now: keep nothing across snapshots until it can be read
        }
        if (ranges.AsSpan().SequenceEqual(_ranges)) return false;
        _ranges = ranges;
        return true;
    }

    static bool IsImmutable(ProcFs.Mapping mapping) =>
        mapping.Permissions.Length >= 2 && mapping.Permissions[0] == 'r' && mapping.Permissions[1] != 'w'
        && mapping.Path.StartsWith('/') && !mapping.Path.StartsWith("/memfd:", StringComparison.Ordinal)
        && !mapping.Path.EndsWith("(deleted)", StringComparison.Ordinal);

    /// <summary>Whether the whole page at <paramref name="pageAddress"/> lies in one immutable mapping.</summary>
    public bool Contains(ulong pageAddress, int pageSize)
    {
        var ranges = _ranges;
        int low = 0, high = ranges.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (ranges[mid].End <= pageAddress) low = mid + 1;
            else if (ranges[mid].Start > pageAddress) high = mid - 1;
            else return pageAddress + (ulong)pageSize <= ranges[mid].End;
        }
        return false;
    }
}
