using System.Buffers.Binary;
using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// Maps an instruction pointer to the compiled code holding it, across samples: the runtime is asked once per code
/// version (SOS's code header), the unwind info is found and parsed once, and then every later frame in that code
/// costs a binary search. Code does not move while it lives; code of an unloaded collectible assembly could be
/// replaced at the same address, so the map is cleared when the runtime reports an unload (see <see cref="Clear"/>).
/// Addresses found to be in no managed code are remembered too, for a while: stubs and native code called often.
/// </summary>
/// <param name="names">A second runtime, never flushed, through which the methods of newly found code are described
/// (their names, types, modules, IL maps): what it reads of a method does not change while the method lives, and the
/// snapshot's runtime, flushed at every snapshot that asks it anything, read a new method's type name anew from the
/// module's metadata each time: 1-2 ms a method, a third of Snapper's CPU on a web service, which meets a new method
/// every few samples for minutes. The snapshot's runtime still finds the code (that changes).</param>
/// <param name="regions">Tells native libraries apart without asking the runtime: most addresses that are not managed code.
/// Anything else (anonymous or unknown memory) is asked of the runtime.</param>
sealed class CodeMap(ClrRuntime runtime, ClrRuntime names, SosCodeHeaders sos, ExecutableRegions regions, Action ensureDacFresh)
{
    const int MaxNotManaged = 4096;
    const int DescribeAgainAfterMs = 1000;
    static readonly TimeSpan NotManagedLifetime = TimeSpan.FromSeconds(10);

    readonly List<CompiledCode> _codes = []; // sorted by Start, not overlapping
    readonly HashSet<ulong> _notManaged = [];
    readonly Dictionary<ulong, ClrMethod?> _methods = new();
    readonly ReadyToRunImages _images = new(runtime);
    // The code of addresses met lately, by address, or that they are in none (native code): the same return addresses
    // come back in every walk of a thread, and the binary search over thousands of codes for each frame was 4% of
    // Snapper's CPU on ShopService under load.
    // Emptied whenever a code is added or removed.
    const int RecentSlots = 4096;
    readonly (ulong Address, CompiledCode? Code)[] _recent = new (ulong, CompiledCode?)[RecentSlots];
    static readonly CompiledCode NoCode = new(0, 0, 0, null, null); // in _recent: an address in no code the map holds
    long _notManagedSince = Environment.TickCount64;

    public int Count => _codes.Count;

    /// <summary>Addresses that may not be a frame's left unasked: not in code the JIT had finished (SNAPPER_DEBUG).</summary>
    public long UnpublishedFound { get; private set; }

    /// <summary>Where the addresses asked about now come from (set around a walk or a scan by <see cref="FastWalking"/>).</summary>
    public CodeLookup Lookup { get; set; } = CodeLookup.HeldFrames;

    /// <summary>The code holding <paramref name="address"/>, or null when it is not managed code.</summary>
    public CompiledCode? Find(ulong address, IWalkMemory memory)
    {
        if (Search(address) is { } known && (known.Unwind is not null || Environment.TickCount64 < known.DescribeAgainAt)) return known;
        if (regions.InNativeLibrary(address)) return null;
        if (Environment.TickCount64 - _notManagedSince > NotManagedLifetime.TotalMilliseconds || _notManaged.Count > MaxNotManaged)
        {
            _notManaged.Clear();
            _notManagedSince = Environment.TickCount64;
        }
        if (_notManaged.Contains(address)) return null;
        ensureDacFresh();
        if (Lookup != CodeLookup.HeldFrames)
            switch (InFinishedCode(address, memory))
            {
                case false:
                    UnpublishedFound++;
                    return null; // not remembered as native: code being compiled is managed code soon
                case null:
                    if (Lookup != CodeLookup.RunningCopy) _notManaged.Add(address);
                    return null;
            }
        // Up to one past the end: a return address after a call that is the code's last instruction (to a helper
        // that throws) is the end itself, and the runtime maps it to that code too.
        if (sos.Find(address) is not { } header || header.Start > address || address - header.Start > header.Size)
        {
            if (Lookup != CodeLookup.RunningCopy) _notManaged.Add(address);
            return null;
        }
        var code = Describe(header, address, memory);
        Insert(code);
        return code;
    }

    /// <summary>True when the address is in a native library's code (not managed code, without asking the runtime).</summary>
    public bool InNativeLibrary(ulong address) => regions.InNativeLibrary(address);

    public void Clear()
    {
        _codes.Clear();
        Array.Clear(_recent);
        _notManaged.Clear();
        _methods.Clear();
    }

    /// <summary>
    /// The known code holding <paramref name="address"/>: the one starting last at or below it, if the address is inside
    /// it or just at its end (a return address after the code's last instruction). A code starting at that end wins,
    /// as the runtime maps it.
    /// </summary>
    CompiledCode? Search(ulong address)
    {
        ref var recent = ref _recent[(int)((address ^ (address >> 13)) & (RecentSlots - 1))];
        if (recent.Address == address && recent.Code is { } hit) return ReferenceEquals(hit, NoCode) ? null : hit;
        var code = SearchAll(address);
        recent = (address, code ?? NoCode);
        return code;
    }

    CompiledCode? SearchAll(ulong address)
    {
        int lo = 0, hi = _codes.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (_codes[mid].Start <= address) (found, lo) = (mid, mid + 1);
            else hi = mid - 1;
        }
        return found >= 0 && address <= _codes[found].End ? _codes[found] : null;
    }

    void Insert(CompiledCode code)
    {
        int lo = 0, hi = _codes.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (_codes[mid].Start < code.Start) lo = mid + 1;
            else hi = mid;
        }
        // An address found in no code before may be in this new code (a stack word read before the code was written
        // there, or code freed and reused): what was not managed is asked again.
        _notManaged.Clear();
        Array.Clear(_recent);
        // Code replaced at an address (a collectible assembly unloaded): drop what overlaps.
        while (lo < _codes.Count && _codes[lo].Start < code.End) _codes.RemoveAt(lo);
        while (lo > 0 && _codes[lo - 1].End > code.Start) _codes.RemoveAt(--lo);
        _codes.Insert(lo, code);
    }

    CompiledCode Describe(CodeHeader header, ulong address, IWalkMemory memory)
    {
        var end = header.Start + header.Size;
        var functions = header.Kind == CodeHeader.ReadyToRun
            ? _images.Find(address, header.Start, header.Size, memory)
            : JitFunctions(header.Start, header.MethodDesc, memory) is { } jit ? (jit.Base, jit.Functions) : null;
        var method = MethodOf(header.MethodDesc);
        var undescribed = new CompiledCode(header.Start, end, header.Start, method, null) { DescribeAgainAt = Environment.TickCount64 + DescribeAgainAfterMs };
        if (functions is not { Functions.Length: > 0 } found) return undescribed;
        var body = found.Functions[0];
        var bodyEnd = found.Base + body.End;
        if (found.Base + body.Begin != header.Start || bodyEnd > end || bodyEnd <= header.Start) return undescribed;
        var funclets = new List<Funclet>(found.Functions.Length - 1);
        foreach (var funclet in found.Functions.AsSpan(1))
            if (found.Base + funclet.Begin >= bodyEnd && found.Base + funclet.End <= end && funclet.End > funclet.Begin)
                funclets.Add(new Funclet(found.Base + funclet.Begin, found.Base + funclet.End, ReadUnwindInfo(found.Base + funclet.UnwindData, memory)));
        var unwind = ReadUnwindInfo(found.Base + body.UnwindData, memory);
        return unwind is null ? undescribed : new CompiledCode(header.Start, end, bodyEnd, method, unwind) { Funclets = funclets };
    }

    /// <summary>
    /// Whether an address that may not be a frame's (see <see cref="CodeLookup"/>) lies in code the JIT has finished, so
    /// that the runtime may be asked about it (see <see cref="SosCodeHeaders"/>): precompiled code (a mapped image), or
    /// inside the extent of its method's published code, whose header names the method and its GC info. A code version
    /// still being compiled has no published code of its own: the method's published code found instead is another
    /// version's, elsewhere, and the address is not inside it.
    /// </summary>
    /// <returns>Null when the address is in no method's code at all.</returns>
    bool? InFinishedCode(ulong address, IWalkMemory memory)
    {
        if (!ExecutableRegions.IsGeneratedCode(regions.ModuleOf(address))) return true; // an image's code, written before it was mapped
        if (sos.PublishedCode(address) is not { } published) return null;
        if (published.Start == 0 || published.Start > address) return false;
        if (JitFunctions(published.Start, published.MethodDesc, memory) is not { GCInfoWritten: true } code) return false;
        var end = code.Base + code.Functions.Max(f => f.End);
        return address <= end; // up to one past the end, as Find
    }

    /// <summary>
    /// A JIT-compiled method's function table, in its RealCodeHeader (whose address precedes the code): after the
    /// MethodDesc come the count and the entries, and right before it the GC info (written last: null while the JIT is
    /// still at work). The header's earlier fields vary across runtime versions, so the MethodDesc is looked for; the
    /// entries' base is the code heap's, found from the body's entry (the first).
    /// </summary>
    static (ulong Base, RuntimeFunction[] Functions, bool GCInfoWritten)? JitFunctions(ulong start, ulong methodDesc, IWalkMemory memory)
    {
        if (!memory.TryReadPointer(start - 8, out var realHeader) || realHeader == 0) return null;
        Span<byte> fields = stackalloc byte[8 * 8];
        if (memory.Read(realHeader, fields) != fields.Length) return null;
        for (var i = 0; i < 7; i++)
        {
            if (BinaryPrimitives.ReadUInt64LittleEndian(fields[(i * 8)..]) != methodDesc) continue;
            var countAt = realHeader + (ulong)(i + 1) * 8;
            Span<byte> count = stackalloc byte[4];
            if (memory.Read(countAt, count) != 4) return null;
            var n = BinaryPrimitives.ReadUInt32LittleEndian(count);
            if (n is 0 or > 256) return null;
            var entries = new byte[n * RuntimeFunction.Size];
            if (memory.Read(countAt + 4, entries) != entries.Length) return null;
            var functions = new RuntimeFunction[n];
            for (var f = 0; f < n; f++) functions[f] = RuntimeFunction.Read(entries.AsSpan(f * RuntimeFunction.Size));
            if (functions[0].Begin > start) return null;
            return (start - functions[0].Begin, functions, i > 0 && BinaryPrimitives.ReadUInt64LittleEndian(fields[((i - 1) * 8)..]) != 0);
        }
        return null;
    }

    static X64UnwindInfo? ReadUnwindInfo(ulong address, IWalkMemory memory)
    {
        Span<byte> head = stackalloc byte[4];
        if (memory.Read(address, head) != 4) return null;
        var all = new byte[X64UnwindInfo.SizeOf(head)];
        return memory.Read(address, all) == all.Length ? X64UnwindInfo.Parse(all) : null;
    }

    /// <summary>
    /// The method whose code holds <paramref name="address"/>, as the DAC's walk names a managed frame: from the map, else
    /// (an address in no code the map holds, such as a precode stub's, which the runtime names after its method) asked of
    /// the snapshot's runtime as ClrMD asks it.
    /// </summary>
    public ClrMethod? MethodAt(ulong address, IWalkMemory memory) => Find(address, memory)?.Method ?? runtime.GetMethodByInstructionPointer(address);

    /// <summary>The method a MethodDesc stands for, described once (through the runtime that is never flushed).</summary>
    public ClrMethod? MethodOf(ulong methodDesc)
    {
        if (_methods.TryGetValue(methodDesc, out var method)) return method;
        try
        {
            // A module loaded since the describing runtime read its module list may be unknown to it: the snapshot's runtime then.
            method = names.GetMethodByHandle(methodDesc) is { Type.Module: not null } described ? described : runtime.GetMethodByHandle(methodDesc);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ClrDiagnosticsException)
        {
            method = null;
        }
        return _methods[methodDesc] = method;
    }
}
