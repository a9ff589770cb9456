using System.Runtime.InteropServices;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Reads every thread of one process as the kernel keeps it (<see cref="TaskRecord"/>) in three system calls, with
/// a BPF task iterator restricted to that process: create the iterator, read, close. The same facts from /proc cost
/// one read per thread and file (schedstat, syscall), each a few microseconds on a small VM, and the task directory
/// besides. Needs Linux 6.1 or later (iterators limited to one process), kernel BTF, and root or CAP_BPF with
/// CAP_PERFMON; <see cref="TryOpen"/> says why not otherwise, and Snapper then reads /proc.
/// The program only reads: nothing in the target changes, and it is unloaded when Snapper closes it or exits.
/// </summary>
sealed unsafe class TaskIterator : IDisposable
{
    /// <summary>bpf(2)'s union bpf_attr as of Linux 6.1; larger kernels accept it (the rest counts as zero).</summary>
    const int AttributesSize = 144;

    /// <summary>
    /// The kernel lets only GPL-compatible programs call the two helpers this one needs (bpf_seq_write,
    /// bpf_task_pt_regs); the kernel accepts "Dual MIT/GPL" as such. It covers the few instructions
    /// <see cref="TaskIteratorProgram"/> generates, nothing else of Snapper.
    /// </summary>
    static readonly byte[] License = "Dual MIT/GPL\0"u8.ToArray();

    readonly int _programFd;
    readonly int _linkFd;
    byte[] _buffer = GC.AllocateUninitializedArray<byte>(TaskRecord.Size * 256, pinned: true);

    TaskIterator(int programFd, int linkFd)
    {
        _programFd = programFd;
        _linkFd = linkFd;
    }

    /// <summary>An iterator over the threads of <paramref name="pid"/>, or null with the reason it is not available here.</summary>
    public static TaskIterator? TryOpen(int pid, out string? whyNot)
    {
        whyNot = null;
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64) { whyNot = "not x86_64"; return null; }
        if (Btf.LoadKernel() is not { } btf) { whyNot = $"no kernel BTF at {Btf.VmlinuxPath}"; return null; }
        if (TaskIteratorProgram.Layout.Of(btf) is not { } layout) { whyNot = "the kernel's task_struct lacks a member the program reads"; return null; }
        var program = LoadProgram(TaskIteratorProgram.Build(layout), layout.IteratorFunctionId, out whyNot);
        if (program < 0) return null;
        var link = CreateLink(program, pid, out whyNot);
        if (link < 0)
        {
            Native.Close(program);
            return null;
        }
        var iterator = new TaskIterator(program, link);
        // A first pass proves it works before anyone relies on it. The kernel writes thread ids as the initial PID
        // namespace numbers them: from inside a container's namespace they are not the ones ptrace and /proc use here.
        var first = iterator.Read();
        whyNot = iterator.Failed ? "the iterator could not be read"
            : !SameThreads(first, pid, ProcFs.ListThreads(pid)) ? "its thread ids are not this PID namespace's (is Snapper in a container?)"
            : null;
        if (whyNot is null) return iterator;
        iterator.Dispose();
        return null;
    }

    /// <summary>
    /// One record per thread of the process, read now; empty when the process is gone, or when the read failed
    /// (then <see cref="Failed"/> is true). Valid until the next call.
    /// </summary>
    public ReadOnlySpan<TaskRecord> Read()
    {
        Failed = false;
        var attributes = stackalloc byte[AttributesSize];
        new Span<byte>(attributes, AttributesSize).Clear();
        *(int*)attributes = _linkFd;
        var fd = (int)Native.Syscall(Native.SYS_bpf, Native.BPF_ITER_CREATE, attributes, AttributesSize);
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

    /// <summary>
    /// Whether a pass names the threads /proc lists: the process's own id among them, and most of the rest (threads may
    /// start or end between the two reads).
    /// </summary>
    static bool SameThreads(ReadOnlySpan<TaskRecord> records, int pid, int[] listed)
    {
        var common = 0;
        var sawProcess = false;
        foreach (ref readonly var record in records)
        {
            if (Array.IndexOf(listed, record.Tid) >= 0) common++;
            sawProcess |= record.Tid == pid;
        }
        return sawProcess && common * 2 > listed.Length;
    }

    /// <summary>True when the last <see cref="Read"/> failed (rather than found no thread).</summary>
    public bool Failed { get; private set; }

    bool EndsWithEmptyRecord(int length) => MemoryMarshal.Read<int>(_buffer.AsSpan(length - TaskRecord.Size)) == 0;

    void Grow()
    {
        var bigger = GC.AllocateUninitializedArray<byte>(_buffer.Length * 2, pinned: true);
        _buffer.CopyTo(bigger, 0);
        _buffer = bigger;
    }

    static int LoadProgram(ulong[] instructions, int iteratorFunctionId, out string? whyNot)
    {
        whyNot = null;
        var attributes = stackalloc byte[AttributesSize];
        new Span<byte>(attributes, AttributesSize).Clear();
        fixed (ulong* code = instructions)
        fixed (byte* license = License)
        {
            *(int*)(attributes + 0) = Native.BPF_PROG_TYPE_TRACING;
            *(int*)(attributes + 4) = instructions.Length;
            *(ulong*)(attributes + 8) = (ulong)code;
            *(ulong*)(attributes + 16) = (ulong)license;
            "snapper_tasks\0"u8.CopyTo(new Span<byte>(attributes + 48, 16)); // shown by bpftool while it is loaded
            *(int*)(attributes + 68) = Native.BPF_TRACE_ITER;
            *(int*)(attributes + 108) = iteratorFunctionId;
            var fd = (int)Native.Syscall(Native.SYS_bpf, Native.BPF_PROG_LOAD, attributes, AttributesSize);
            if (fd < 0) whyNot = $"the kernel refused the program: {Describe(Marshal.GetLastPInvokeError())}";
            return fd;
        }
    }

    static int CreateLink(int program, int pid, out string? whyNot)
    {
        whyNot = null;
        var attributes = stackalloc byte[AttributesSize];
        new Span<byte>(attributes, AttributesSize).Clear();
        var linkInfo = stackalloc uint[4]; // union bpf_iter_link_info: task.tid, task.pid, task.pid_fd
        new Span<uint>(linkInfo, 4).Clear();
        linkInfo[1] = (uint)pid;
        *(int*)(attributes + 0) = program;
        *(int*)(attributes + 8) = Native.BPF_TRACE_ITER;
        *(ulong*)(attributes + 16) = (ulong)linkInfo;
        *(int*)(attributes + 24) = 16;
        var fd = (int)Native.Syscall(Native.SYS_bpf, Native.BPF_LINK_CREATE, attributes, AttributesSize);
        if (fd < 0) whyNot = $"the kernel refused the iterator: {Describe(Marshal.GetLastPInvokeError())} (before Linux 6.1 an iterator cannot be limited to one process)";
        return fd;
    }

    static string Describe(int errno) => errno switch
    {
        Native.EPERM => "permission denied (needs root, or CAP_BPF and CAP_PERFMON)",
        _ => Marshal.GetPInvokeErrorMessage(errno),
    };

    public void Dispose()
    {
        Native.Close(_linkFd);
        Native.Close(_programFd);
    }
}
