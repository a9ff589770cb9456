using System.Runtime.InteropServices;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Reads every thread of one process as the kernel keeps it (<see cref="TaskRecord"/>) in one system call: a BPF syscall
/// program (<see cref="TaskSnapshotProgram"/>) run on demand, which writes the records into a map that Snapper has
/// mapped into its memory. No file is created per read, unlike <see cref="TaskIterator"/> (whose create, read and close
/// were a third of the sampler's CPU). Needs Linux 6.7 or later (the open-coded task iterator), kernel BTF, and root or
/// CAP_BPF with CAP_PERFMON. The program only reads; it is unloaded when Snapper closes it or exits.
/// </summary>
sealed unsafe class TaskSnapshot : ITaskReader
{
    const int FirstCapacity = 256; // threads; grown by doubling when a process has more

    readonly int _pid;
    readonly TaskRecordWriter _writer;
    readonly TaskSnapshotProgram.KernelFunctions _kernel;
    int _capacity, _mapFd = -1, _programFd = -1;
    nint _area;
    nuint _areaLength;

    TaskSnapshot(int pid, TaskRecordWriter writer, TaskSnapshotProgram.KernelFunctions kernel)
    {
        _pid = pid;
        _writer = writer;
        _kernel = kernel;
    }

    public string Description => "a BPF syscall program";

    public bool Failed { get; private set; }

    /// <summary>The reader, or null with why this kernel cannot have it.</summary>
    public static TaskSnapshot? TryOpen(int pid, Btf btf, TaskRecordWriter writer, out string? whyNot)
    {
        whyNot = null;
        if (TaskSnapshotProgram.KernelFunctions.Of(btf) is not { } kernel)
        {
            whyNot = "the kernel lacks the open-coded task iterator (Linux 6.7+)";
            return null;
        }
        var snapshot = new TaskSnapshot(pid, writer, kernel);
        if (snapshot.Prepare(FirstCapacity, out whyNot)) return snapshot;
        snapshot.Dispose();
        return null;
    }

    public ReadOnlySpan<TaskRecord> Read()
    {
        Failed = !Bpf.RunProgram(_programFd);
        if (Failed) return default;
        if (*(int*)(_area + TaskSnapshotProgram.OverflowOffset) != 0)
        {
            // More threads than room: a program with twice the room, and read again.
            if (!Prepare(2 * _capacity, out _)) { Failed = true; return default; }
            return Read();
        }
        var count = Math.Min(*(int*)(_area + TaskSnapshotProgram.CountOffset), _capacity);
        return new ReadOnlySpan<TaskRecord>((void*)(_area + TaskSnapshotProgram.RecordsOffset), count);
    }

    /// <summary>A map with room for <paramref name="capacity"/> threads, mapped here, and the program that fills it.</summary>
    bool Prepare(int capacity, out string? whyNot)
    {
        whyNot = null;
        Release();
        _capacity = capacity;
        var size = TaskSnapshotProgram.AreaSize(capacity);
        _mapFd = Bpf.CreateMappableArray(size, "snapper_threads");
        if (_mapFd < 0)
        {
            whyNot = $"the kernel refused the map: {Bpf.Describe(Marshal.GetLastPInvokeError())}";
            return false;
        }
        _areaLength = (nuint)((size + Environment.SystemPageSize - 1) / Environment.SystemPageSize * Environment.SystemPageSize);
        _area = Native.Mmap(0, _areaLength, Native.PROT_READ, Native.MAP_SHARED, _mapFd, 0);
        if (_area == Native.MAP_FAILED)
        {
            _area = 0;
            whyNot = $"the map could not be mapped: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            return false;
        }
        var program = TaskSnapshotProgram.Build(_writer, _kernel, _pid, _mapFd, capacity);
        _programFd = Bpf.LoadProgram(program, "snapper_threads", Bpf.ProgramTypeSyscall, Bpf.FlagSleepable, 0, 0, out whyNot);
        return _programFd >= 0;
    }

    void Release()
    {
        if (_programFd >= 0) Native.Close(_programFd);
        if (_area != 0) Native.Munmap(_area, _areaLength);
        if (_mapFd >= 0) Native.Close(_mapFd);
        _programFd = _mapFd = -1;
        _area = 0;
    }

    public void Dispose() => Release();
}
