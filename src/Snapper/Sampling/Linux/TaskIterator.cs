using System.Runtime.InteropServices;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Reads every thread of one process as the kernel keeps it (<see cref="TaskRecord"/>) in three system calls, with
/// a BPF task iterator restricted to that process: create the iterator, read, close. The same facts from /proc cost
/// one read per thread and file (schedstat, syscall), each a few microseconds on a small VM, and the task directory
/// besides. Needs Linux 6.1 or later (iterators limited to one process), kernel BTF, and root or CAP_BPF with
/// CAP_PERFMON. Where the kernel has the open-coded iterator (6.7+), <see cref="TaskSnapshot"/> does the same in one call.
/// The program only reads: nothing in the target changes, and it is unloaded when Snapper closes it or exits.
/// </summary>
sealed unsafe class TaskIterator : ITaskReader
{
    readonly int _programFd;
    readonly int _linkFd;
    byte[] _buffer = GC.AllocateUninitializedArray<byte>(TaskRecord.Size * 256, pinned: true);

    TaskIterator(int programFd, int linkFd)
    {
        _programFd = programFd;
        _linkFd = linkFd;
    }

    public string Description => "a BPF task iterator";

    /// <summary>An iterator over the threads of <paramref name="pid"/>, or null with the reason it is not available here.</summary>
    public static TaskIterator? TryOpen(int pid, Btf btf, TaskRecordWriter writer, out string? whyNot)
    {
        whyNot = null;
        if (btf.FindId(Btf.KindFunc, "bpf_iter_task") is not { } iteratorFunction) { whyNot = "the kernel has no task iterator"; return null; }
        var program = Bpf.LoadProgram(TaskIteratorProgram.Build(writer), "snapper_tasks", Bpf.ProgramTypeTracing, 0,
            Bpf.AttachTraceIterator, iteratorFunction, out whyNot);
        if (program < 0) return null;
        var link = Bpf.CreateTaskIteratorLink(program, pid);
        if (link >= 0) return new TaskIterator(program, link);
        whyNot = $"the kernel refused the iterator: {Bpf.Describe(Marshal.GetLastPInvokeError())} (before Linux 6.1 an iterator cannot be limited to one process)";
        Native.Close(program);
        return null;
    }

    public ReadOnlySpan<TaskRecord> Read()
    {
        Failed = false;
        var fd = Bpf.CreateIterator(_linkFd);
        if (fd < 0)
        {
            Failed = true;
            return default;
        }
        try
        {
            var length = 0;
            while (true)
            {
                if (length == _buffer.Length) Grow();
                nint read;
                fixed (byte* buffer = _buffer) read = Native.Read(fd, buffer + length, (nuint)(_buffer.Length - length));
                if (read < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Native.EINTR) continue;
                    Failed = true;
                    return default;
                }
                length += (int)read;
                // The program writes an empty record after the last thread; reading on to the end of the file would cost another call.
                if (read == 0 || length % TaskRecord.Size == 0 && length > 0 && EndsWithEmptyRecord(length)) break;
            }
            var records = MemoryMarshal.Cast<byte, TaskRecord>(_buffer.AsSpan(0, length - length % TaskRecord.Size));
            return records.Length > 0 && records[^1].Tid == 0 ? records[..^1] : records;
        }
        finally
        {
            Native.Close(fd);
        }
    }

    public bool Failed { get; private set; }

    bool EndsWithEmptyRecord(int length) => MemoryMarshal.Read<int>(_buffer.AsSpan(length - TaskRecord.Size)) == 0;

    void Grow()
    {
        var bigger = GC.AllocateUninitializedArray<byte>(_buffer.Length * 2, pinned: true);
        _buffer.CopyTo(bigger, 0);
        _buffer = bigger;
    }

    public void Dispose()
    {
        Native.Close(_linkFd);
        Native.Close(_programFd);
    }
}
