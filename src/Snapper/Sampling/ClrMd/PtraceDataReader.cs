using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// ClrMD's view of a live process that Snapper stops and resumes itself. Memory comes from a per-snapshot page
/// cache; registers only from threads the <see cref="ThreadStopper"/> holds stopped right now (a running thread's
/// registers are meaningless, and ClrMD's own reader would hand back garbage for them).
/// Nothing here throws: these methods run inside the DAC's native callbacks, where an exception aborts the process.
/// </summary>
sealed class PtraceDataReader : IDataReader
{
    readonly ProcessMemory _memory;
    readonly ThreadStopper _stopper;
    readonly List<ModuleInfo> _modules;
    readonly Dictionary<uint, Native.UserRegs> _overrides = new(); // by Snapper's thread id
    readonly ThreadIds _ids;

    public PtraceDataReader(int pid, ProcessMemory memory, ThreadStopper stopper, List<(ulong Start, ulong Offset, string Path)> mappings, ThreadIds ids)
    {
        ProcessId = pid;
        _memory = memory;
        _stopper = stopper;
        _ids = ids;
        _modules = LoadModules(mappings);
    }

    public string DisplayName => $"pid {ProcessId}";
    public bool IsThreadSafe => false;
    public OSPlatform TargetPlatform => OSPlatform.Linux;
    public Architecture Architecture => Architecture.X64;
    public int ProcessId { get; }
    public int PointerSize => 8;

    public IEnumerable<ModuleInfo> EnumerateModules() => _modules;

    List<ModuleInfo> LoadModules(List<(ulong Start, ulong Offset, string Path)> mappings)
    {
        var modules = new List<ModuleInfo>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var limits = new DataTargetLimits();
        foreach (var (start, offset, path) in mappings)
        {
            // A file's image base is its first mapping at file offset 0.
            if (offset != 0 || !seen.Add(path)) continue;
            try
            {
                if (ModuleInfo.TryCreate(this, start, path, limits) is { } module) modules.Add(module);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or BadImageFormatException)
            {
                // A mapping we cannot parse is not one the runtime needs; skip it.
            }
        }
        return modules;
    }

    /// <summary>Walks of <paramref name="tid"/> start from <paramref name="registers"/> instead of where the thread stopped.</summary>
    public void OverrideContext(uint tid, Native.UserRegs registers) => _overrides[tid] = registers;

    public void ClearOverride(uint tid) => _overrides.Remove(tid);

    /// <param name="threadID">The runtime's id of the thread (see <see cref="ThreadIds"/>).</param>
    public bool GetThreadContext(uint threadID, uint contextFlags, Span<byte> context)
    {
        var tid = _ids.Of(threadID);
        if (context.Length < Unsafe.SizeOf<AMD64Context>() || tid == 0 || !_stopper.TryGetRegisters((int)tid, out var r))
            return false;
        if (_overrides.TryGetValue(tid, out var overridden)) r = overridden;
        context.Clear();
        ref var c = ref MemoryMarshal.AsRef<AMD64Context>(context);
        c.ContextFlags = contextFlags;
        c.Rax = r.Rax; c.Rbx = r.Rbx; c.Rcx = r.Rcx; c.Rdx = r.Rdx;
        c.Rsi = r.Rsi; c.Rdi = r.Rdi; c.Rbp = r.Rbp; c.Rsp = r.Rsp; c.Rip = r.Rip;
        c.R8 = r.R8; c.R9 = r.R9; c.R10 = r.R10; c.R11 = r.R11;
        c.R12 = r.R12; c.R13 = r.R13; c.R14 = r.R14; c.R15 = r.R15;
        c.Cs = (ushort)r.Cs; c.Ss = (ushort)r.Ss; c.Ds = (ushort)r.Ds; c.Es = (ushort)r.Es; c.Fs = (ushort)r.Fs; c.Gs = (ushort)r.Gs;
        c.EFlags = (int)r.EFlags;
        return true;
    }

    public void FlushCachedData() => _memory.Flush();

    public int Read(ulong address, Span<byte> buffer)
    {
        try
        {
            return _memory.Read(address, buffer);
        }
        catch (Exception)
        {
            // Never let an exception cross into the DAC (see class comment).
            return 0;
        }
    }

    public bool Read<T>(ulong address, out T value) where T : unmanaged
    {
        Span<byte> buffer = stackalloc byte[Unsafe.SizeOf<T>()];
        if (Read(address, buffer) == buffer.Length)
        {
            value = MemoryMarshal.Read<T>(buffer);
            return true;
        }
        value = default;
        return false;
    }

    public T Read<T>(ulong address) where T : unmanaged => Read(address, out T value) ? value : default;

    public bool ReadPointer(ulong address, out ulong value) => Read(address, out value);

    public ulong ReadPointer(ulong address) => Read<ulong>(address);
}
