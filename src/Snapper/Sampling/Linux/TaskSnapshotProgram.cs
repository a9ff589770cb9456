using static Snapper.Sampling.Linux.BpfAssembler;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Builds the BPF syscall program of <see cref="TaskSnapshot"/>: run on demand, it walks the threads of one process
/// with the kernel's open-coded task iterator and writes a <see cref="TaskRecord"/> for each into a map Snapper has
/// mapped into its own memory. The output: a count (u32), an overflow flag (u32, set when the threads outnumber the
/// room), 8 bytes unused, then the records.
/// </summary>
static class TaskSnapshotProgram
{
    public const int CountOffset = 0, OverflowOffset = 4, RecordsOffset = 16;
    const int ProcessThreads = 2; // BPF_TASK_ITER_PROC_THREADS: every thread of the given task's process

    /// <summary>The kernel functions the program calls, by BTF id; null when this kernel lacks one (before Linux 6.7).</summary>
    public sealed record KernelFunctions(int TaskFromPid, int TaskRelease, int RcuReadLock, int RcuReadUnlock,
        int IteratorNew, int IteratorNext, int IteratorDestroy, int IteratorSize)
    {
        public static KernelFunctions? Of(Btf btf) =>
            btf.FindId(Btf.KindFunc, "bpf_task_from_pid") is { } fromPid && btf.FindId(Btf.KindFunc, "bpf_task_release") is { } release
            && btf.FindId(Btf.KindFunc, "bpf_rcu_read_lock") is { } rcuLock && btf.FindId(Btf.KindFunc, "bpf_rcu_read_unlock") is { } rcuUnlock
            && btf.FindId(Btf.KindFunc, "bpf_iter_task_new") is { } iterNew && btf.FindId(Btf.KindFunc, "bpf_iter_task_next") is { } iterNext
            && btf.FindId(Btf.KindFunc, "bpf_iter_task_destroy") is { } iterDestroy
            && btf.FindId(Btf.KindStruct, "bpf_iter_task") is { } iterator && btf.SizeOf(iterator) is { } size and > 0 and <= 64
                ? new KernelFunctions(fromPid, release, rcuLock, rcuUnlock, iterNew, iterNext, iterDestroy, size)
                : null;
    }

    public static int AreaSize(int capacity) => RecordsOffset + capacity * TaskRecord.Size;

    /// <summary>
    /// R6: the output area; R7: the process's task (a counted reference); R8: the thread at hand; R9: its record.
    /// The count is read back from the map at each thread, not kept in a register, so the verifier sees the same
    /// state at every turn of the loop and proves it once instead of once per possible count.
    /// </summary>
    public static ulong[] Build(TaskRecordWriter writer, KernelFunctions kernel, int pid, int mapFd, int capacity)
    {
        var iterator = -(kernel.IteratorSize + 7) / 8 * 8; // on the stack, 8-byte aligned
        var code = new BpfAssembler();
        code.LoadMapValueAddress(R6, mapFd, 0);
        code.StoreImmediate(4, R6, CountOffset, 0);
        code.StoreImmediate(4, R6, OverflowOffset, 0);
        code.MoveImmediate(R1, pid);
        code.CallKernelFunction(kernel.TaskFromPid);
        var noProcess = code.JumpIfEqual(R0, 0);
        code.Move(R7, R0);
        code.CallKernelFunction(kernel.RcuReadLock); // the iterator walks the thread list under RCU
        code.Move(R1, FramePointer);
        code.AddImmediate(R1, iterator);
        code.Move(R2, R7);
        code.MoveImmediate(R3, ProcessThreads);
        code.CallKernelFunction(kernel.IteratorNew);

        var loop = code.Here;
        code.Move(R1, FramePointer);
        code.AddImmediate(R1, iterator);
        code.CallKernelFunction(kernel.IteratorNext);
        var done = code.JumpIfEqual(R0, 0);
        code.Move(R8, R0);
        code.Load(4, R2, R6, CountOffset);
        var full = code.JumpIfAtLeast(R2, capacity);
        code.Move(R9, R2);
        code.MultiplyImmediate(R9, TaskRecord.Size);
        code.AddRegister(R9, R6);
        code.AddImmediate(R2, 1);
        code.Store(4, R6, CountOffset, R2);
        writer.Emit(code, R8, R9, RecordsOffset);
        code.MoveImmediate(R8, 0);
        code.MoveImmediate(R9, 0);
        code.JumpTo(loop);

        code.JumpHere(full);
        code.StoreImmediate(4, R6, OverflowOffset, 1);
        code.JumpHere(done);
        code.Move(R1, FramePointer);
        code.AddImmediate(R1, iterator);
        code.CallKernelFunction(kernel.IteratorDestroy);
        code.CallKernelFunction(kernel.RcuReadUnlock);
        code.Move(R1, R7);
        code.CallKernelFunction(kernel.TaskRelease);
        code.JumpHere(noProcess);
        code.MoveImmediate(R0, 0);
        code.Exit();
        return code.ToArray();
    }
}
