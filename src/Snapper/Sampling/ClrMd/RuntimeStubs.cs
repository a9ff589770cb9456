using Microsoft.Diagnostics.Runtime;
using Snapper.Store;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Names code the runtime generated that is no managed method (a stub) for what it does: an interface call being
/// dispatched (virtual stub dispatch's dispatch and resolve stubs), a virtual call through a vtable stub, a method's
/// entry point (precodes), calls being counted for tiering, a dynamic helper. By the heap the runtime allocated it from
/// where that heap holds one kind of stub, else by its code bytes (<see cref="Unwind.StubCode"/>), else by its heap.
/// Issue 17: in a `dotnet build` such code held 3-7% of the CPU as one opaque leaf.
/// <para>
/// The heaps' address ranges are read from the runtime's loader heaps and code heaps (ClrMD's loader-allocator and JIT
/// manager heaps: block lists, no code decoding), never with the DAC's <c>GetRuntimeNameByAddress</c>, which names stubs
/// too but crashed Snapper in the DAC even with the target stopped (docs/cpu-attribution.md). Reading a heap's blocks
/// follows a list of (address, size, next) headers the runtime only appends to: a torn read is a failed read, not a
/// fault in the DAC, so it may be done while the target runs. Heaps grow a block at a time, so the ranges are read
/// again when a thread is found in generated code no known range holds, at most once a second, and only for an address
/// not already found in none (code outside every heap would re-read them forever).
/// </para>
/// </summary>
sealed class RuntimeStubs(Func<ClrRuntime?> runtime, Action ensureDacFresh, Linux.ProcessMemory memory)
{
    readonly record struct Range(ulong Start, ulong End, NativeHeapKind Kind);

    static readonly TimeSpan RereadInterval = TimeSpan.FromSeconds(1);
    const int MaxRemembered = 4096;

    Range[] _ranges = []; // sorted by start; the smaller range first where two overlap (a stub heap's block inside a code heap)
    readonly HashSet<ulong> _inNoHeap = []; // addresses found in no range at the last read: they do not ask for another
    readonly Dictionary<string, FrameInfo> _frames = new(StringComparer.Ordinal);
    readonly Dictionary<ulong, string?> _byCode = new(); // what the code bytes at an address said (stubs are never rewritten)
    long? _readAt;

    int _reads, _namedByHeap, _namedByCode, _unnamed;
    TimeSpan _readTime;
    readonly Dictionary<NativeHeapKind, int> _blocksByKind = new(); // at the last read
    readonly List<string> _unnamedCode = []; // a few addresses in no known stub, with their bytes, for SNAPPER_DEBUG

    /// <summary>How often the heaps were read and what that cost, and how the leaves were named (for SNAPPER_DEBUG).</summary>
    public string Summary() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"runtime stubs: heaps read {_reads} times ({_readTime.TotalMilliseconds:F1} ms in all, {_ranges.Length} ranges), leaves named {_namedByHeap} by heap, {_namedByCode} by code, {_unnamed} not; blocks at the last read: {string.Join(", ", _blocksByKind.Select(k => $"{k.Key} {k.Value}"))}")
        + string.Concat(_unnamedCode.Select(line => "\n  not named: " + line));

    /// <summary>
    /// The stub at <paramref name="address"/>, named for what it does: by its heap where the heap holds one kind of stub,
    /// else by its code bytes (see Unwind.StubCode), else by its heap; null when nothing says.
    /// </summary>
    public FrameInfo? NameAt(ulong address)
    {
        var heap = Find(address);
        var name = heap is { } kind && OneKindOfStub(kind) ? NameOf(kind) : null;
        if (name is not null) _namedByHeap++;
        else if ((name = CodeKindAt(address)) is not null) _namedByCode++;
        else if (heap is { } holder && (name = NameOf(holder)) is not null) _namedByHeap++;
        else
        {
            _unnamed++;
            return null;
        }
        return _frames.TryGetValue(name, out var frame) ? frame : _frames[name] = new FrameInfo(FrameKind.Native, "", "", name);
    }

    /// <summary>What the code bytes around <paramref name="address"/> say it is; read once per address.</summary>
    string? CodeKindAt(ulong address)
    {
        if (_byCode.TryGetValue(address, out var known)) return known;
        Span<byte> code = stackalloc byte[Unwind.StubCode.Before + Unwind.StubCode.After];
        var read = memory.ReadUncached(address - Unwind.StubCode.Before, code);
        // A stub at the start of a mapping has nothing readable before it: read from the address itself then.
        var kind = read == code.Length ? Unwind.StubCode.KindAt(code, Unwind.StubCode.Before)
            : memory.ReadUncached(address, code[..Unwind.StubCode.After]) is var tail and > 0 ? Unwind.StubCode.KindAt(code[..tail], 0) : null;
        if (_byCode.Count >= MaxRemembered) _byCode.Clear();
        _byCode[address] = kind;
        if (kind is null && DebugSwitch.Enabled && _unnamedCode.Count < 8 && read == code.Length)
            _unnamedCode.Add($"{address:x} ({(Find(address) is { } heap ? heap.ToString() : "no heap")}): {Convert.ToHexString(code[(Unwind.StubCode.Before - 24)..Unwind.StubCode.Before])} | {Convert.ToHexString(code.Slice(Unwind.StubCode.Before, 24))}");
        return kind;
    }

    /// <summary>
    /// Reads the heaps again when <paramref name="address"/>, the code a thread was found in, lies in none known and was
    /// not in one at the last read either. Flushes the DAC's caches first when they are stale: call it before the
    /// snapshot's walks are named.
    /// </summary>
    public void LearnIfUnknown(ulong address)
    {
        if (Find(address) is not null || _inNoHeap.Contains(address) || CodeKindAt(address) is not null) return;
        if (_readAt is { } readAt && Environment.TickCount64 - readAt < RereadInterval.TotalMilliseconds) return;
        if (runtime() is not { } clr) return;
        Read(clr);
        if (Find(address) is null && _inNoHeap.Count < MaxRemembered) _inNoHeap.Add(address);
    }

    void Read(ClrRuntime clr)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        ensureDacFresh();
        _blocksByKind.Clear();
        List<Range> ranges = [];
        try
        {
            var domains = clr.AppDomains.AsEnumerable();
            if (clr.SystemDomain is { } system) domains = domains.Append(system);
            if (clr.SharedDomain is { } shared) domains = domains.Append(shared);
            foreach (var domain in domains)
                foreach (var heap in domain.EnumerateLoaderAllocatorHeaps())
                    Add(ranges, heap);
            foreach (var jit in clr.EnumerateJitManagers())
                foreach (var heap in jit.EnumerateNativeHeaps())
                    Add(ranges, heap);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException)
        {
            // A block list read while the runtime grows it: keep what was read, the next miss reads again.
        }
        ranges.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : (a.End - a.Start).CompareTo(b.End - b.Start));
        _ranges = [.. ranges];
        _inNoHeap.Clear();
        _readAt = Environment.TickCount64;
        _reads++;
        _readTime += System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    void Add(List<Range> ranges, ClrNativeHeapInfo heap)
    {
        _blocksByKind[heap.Kind] = _blocksByKind.GetValueOrDefault(heap.Kind) + 1;
        if (heap.MemoryRange.Length > 0 && NameOf(heap.Kind) is not null)
            ranges.Add(new Range(heap.MemoryRange.Start, heap.MemoryRange.End, heap.Kind));
    }

    /// <summary>The kind of the smallest known range holding <paramref name="address"/>.</summary>
    NativeHeapKind? Find(ulong address)
    {
        NativeHeapKind? found = null;
        var smallest = ulong.MaxValue;
        // Few ranges (tens to a few hundred) and few questions (leaves in generated code): a linear scan is enough.
        foreach (var range in _ranges)
        {
            if (range.Start > address) break;
            if (address < range.End && range.End - range.Start < smallest) (found, smallest) = (range.Kind, range.End - range.Start);
        }
        return found;
    }

    /// <summary>Heaps that hold stubs of one kind only (the code heaps and the stub heap hold several).</summary>
    static bool OneKindOfStub(NativeHeapKind kind) => kind is NativeHeapKind.LookupHeap or NativeHeapKind.DispatchHeap or NativeHeapKind.ResolveHeap
        or NativeHeapKind.VtableHeap or NativeHeapKind.FixupPrecodeHeap or NativeHeapKind.NewStubPrecodeHeap or NativeHeapKind.ThunkHeap;

    /// <summary>What code in a heap of this kind does; null for heaps that hold data, not code.</summary>
    static string? NameOf(NativeHeapKind kind) => kind switch
    {
        NativeHeapKind.LookupHeap => "[runtime stub: interface call, first call at its call site (VSD lookup stub)]",
        NativeHeapKind.DispatchHeap => Unwind.StubCode.InterfaceDispatch,
        NativeHeapKind.ResolveHeap => Unwind.StubCode.InterfaceResolve,
        NativeHeapKind.VtableHeap => Unwind.StubCode.VtableCall,
        NativeHeapKind.FixupPrecodeHeap => Unwind.StubCode.FixupPrecode,
        NativeHeapKind.NewStubPrecodeHeap => Unwind.StubCode.StubPrecode,
        NativeHeapKind.ThunkHeap => "[runtime stub: native code calling managed code (thunk)]",
        NativeHeapKind.StubHeap => "[runtime stub: from the stub heap (delegate, instantiating or marshalling stub)]",
        NativeHeapKind.ExecutableHeap => "[runtime stub: from the executable heap]",
        NativeHeapKind.LoaderCodeHeap => "[runtime stub in the JIT's code heap: interface dispatch, a dynamic helper or a jump stub]",
        NativeHeapKind.HostCodeHeap => "[runtime-generated code in a dynamic method's code heap, not a method]",
        _ => null,
    };
}
