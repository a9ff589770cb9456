using System.Collections.Immutable;
using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// The IL offset a managed frame is at, for its source line. Must run while the target is stopped: the IL map comes
/// from the DAC walking the runtime's code heaps, and reading those while the target runs (and JITs, and tiers up)
/// crashed the DAC with SIGSEGV in about one capture in fifteen. Maps are kept per code version, so a steady state
/// asks the DAC nothing.
/// <para>
/// Even read while the target is stopped, the DAC's IL map lookup (EnumMethodInstancesByAddress) crashed Snapper in
/// about one capture in twenty of an ASP.NET Core service busy JIT-compiling (dynamic methods, IL stubs): so it is
/// asked only for methods that can have a source line at all, those of modules with a PDB.
/// </para>
/// </summary>
/// <param name="mayHaveLines">Whether a method can have source lines (null: not known yet, ask again later).</param>
/// <param name="codeVersions">For addresses in code compiled after a method's first version; null when unavailable.</param>
/// <param name="beforeDac">Runs before the DAC is asked anything: its caches must be fresh (see PtraceStackSource).</param>
sealed class ILOffsets(Func<ClrMethod, bool?> mayHaveLines, Func<CodeVersionILOffsets?> codeVersions, Action? beforeDac = null)
{
    CodeVersionILOffsets? _codeVersions;
    bool _codeVersionsLooked;

    /// <summary>The IL maps ClrMD gave for a method (its first compiled code; a method re-created, a new one).</summary>
    readonly Dictionary<ulong, List<ImmutableArray<ILToNativeMap>>> _maps = new();
    /// <summary>Every answer given, -1 included, so that the DAC is asked once per address: ClrMD maps only a method's
    /// first code, and each address in code compiled later is looked up on its own (<see cref="CodeVersionILOffsets"/>).</summary>
    readonly Dictionary<(ulong MethodDesc, ulong Address), int> _offsets = new();

    /// <param name="address">For the frame being executed, its instruction pointer; for a caller, the return address
    /// minus one (the call instruction, which may belong to another statement than the one after it).</param>
    /// <returns>The IL offset, or -1 when none is known (prolog, epilog, no map).</returns>
    public int Find(ClrMethod method, ulong address)
    {
        var methodDesc = method.MethodDesc;
        if (methodDesc == 0 || address == 0) return -1;
        if (_offsets.TryGetValue((methodDesc, address), out var known)) return known;
        if (mayHaveLines(method) != true) return -1;
        beforeDac?.Invoke();
        if (!_maps.TryGetValue(methodDesc, out var maps)) _maps[methodDesc] = maps = [];
        if (Lookup(maps, address) is not { } offset)
        {
            var map = ReadMap(method);
            if (!map.IsDefaultOrEmpty && !maps.Any(m => m[0].StartAddress == map[0].StartAddress)) maps.Add(map);
            offset = Lookup(maps, address) ?? InLaterCode(address);
        }
        _offsets[(methodDesc, address)] = offset;
        return offset;
    }

    /// <summary>The extent of the code version of a method that holds <paramref name="address"/>, when its map has been read.</summary>
    public (ulong Start, ulong End)? CodeOf(ulong methodDesc, ulong address)
    {
        if (!_maps.TryGetValue(methodDesc, out var maps)) return null;
        foreach (var map in maps)
        {
            var (start, end) = (ulong.MaxValue, 0UL);
            foreach (var entry in map) (start, end) = (Math.Min(start, entry.StartAddress), Math.Max(end, entry.EndAddress));
            if (start <= address && address <= end) return (start, end);
        }
        return null;
    }

    /// <summary>An address no map of the method covers: code compiled after its first version (OSR, tier 1).</summary>
    int InLaterCode(ulong address)
    {
        if (!_codeVersionsLooked)
        {
            _codeVersions = codeVersions();
            _codeVersionsLooked = true;
        }
        return _codeVersions?.Find(address) ?? -1;
    }

    static ImmutableArray<ILToNativeMap> ReadMap(ClrMethod method)
    {
        try
        {
            return method.ILOffsetMap;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or ClrDiagnosticsException)
        {
            return default;
        }
    }

    static int? Lookup(List<ImmutableArray<ILToNativeMap>> maps, ulong address)
    {
        foreach (var map in maps)
            foreach (var entry in map)
                if (entry.StartAddress <= address && address <= entry.EndAddress)
                    return entry.ILOffset >= 0 ? entry.ILOffset : -1; // -1 no mapping, -2 prolog, -3 epilog
        return null;
    }
}
