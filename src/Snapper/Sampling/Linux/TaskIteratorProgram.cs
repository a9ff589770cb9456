using System.Runtime.InteropServices;

namespace Snapper.Sampling.Linux;

/// <summary>
/// One thread as the kernel keeps it, written by <see cref="TaskIteratorProgram"/>: 56 bytes, little-endian.
/// A record whose <see cref="Tid"/> is 0 marks the end of a pass.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
struct TaskRecord
{
    public int Tid;
    /// <summary>task_struct.__state: 0 when runnable (on a CPU or queued for one), else why it sleeps or is stopped.</summary>
    public uint State;
    /// <summary>se.sum_exec_runtime: nanoseconds on a CPU, the first field of /proc/PID/task/TID/schedstat.</summary>
    public ulong RunTimeNs;
    /// <summary>Non-zero while the thread is on a CPU (or being switched to one).</summary>
    public int OnCpu;
    /// <summary>Non-zero once the thread has exited (a zombie, or dead).</summary>
    public int ExitState;
    /// <summary>The user registers saved when the thread last entered the kernel: a syscall number (negative when it came in from an interrupt), pc, sp.</summary>
    public long OrigAx;
    public ulong Ip;
    public ulong Sp;
    /// <summary>When the process's main thread started (ns since boot): tells this process from a later one given the same pid.</summary>
    public ulong LeaderStartTime;

    public const int Size = 56;
}

/// <summary>
/// Builds the BPF task iterator program that writes one <see cref="TaskRecord"/> per thread of the process, and one
/// empty record at the end. Hand-assembled (no compiler on the machines Snapper runs on) from offsets read from the
/// running kernel's BTF, so it loads on any kernel whose structs have the members it needs. The verifier checks every
/// load against those types; reads of kernel memory it cannot prove safe are turned into fault-tolerant ones.
/// </summary>
static class TaskIteratorProgram
{
    public const int HelperSeqWrite = 127, HelperTaskPtRegs = 175;

    /// <summary>Where the members the program reads are in this kernel; null when one is missing (an older kernel, not x86_64).</summary>
    public sealed record Layout(
        int IteratorFunctionId,
        (int Offset, int Size) Pid, (int Offset, int Size) State, (int Offset, int Size) OnCpu, (int Offset, int Size) ExitState,
        (int Offset, int Size) RunTime, (int Offset, int Size) GroupLeader, (int Offset, int Size) StartTime,
        (int Offset, int Size) OrigAx, (int Offset, int Size) Ip, (int Offset, int Size) Sp)
    {
        public static Layout? Of(Btf btf)
        {
            if (btf.FindId(Btf.KindFunc, "bpf_iter_task") is not { } iterator) return null;
            if (btf.FindId(Btf.KindStruct, "task_struct") is not { } task) return null;
            if (btf.FindId(Btf.KindStruct, "pt_regs") is not { } regs) return null;
            // __state replaced the long "state" in 5.14; either reads the same way (the low 32 bits).
            var state = btf.Member(task, "__state") ?? btf.Member(task, "state");
            var layout = btf.Member(task, "pid") is { } pid && state is { } s && btf.Member(task, "on_cpu") is { } onCpu
                && btf.Member(task, "exit_state") is { } exit && btf.Member(task, "se", "sum_exec_runtime") is { } runTime
                && btf.Member(task, "group_leader") is { Size: 8 } leader && btf.Member(task, "start_time") is { } start
                && btf.Member(regs, "orig_ax") is { } origAx && btf.Member(regs, "ip") is { } ip && btf.Member(regs, "sp") is { } sp
                ? new Layout(iterator, pid, s, onCpu, exit, runTime, leader, start, origAx, ip, sp)
                : null;
            return layout is not null && layout.Members().All(m => m.Size is 1 or 2 or 4 or 8) ? layout : null;
        }

        IEnumerable<(int Offset, int Size)> Members() => [Pid, State, OnCpu, ExitState, RunTime, GroupLeader, StartTime, OrigAx, Ip, Sp];
    }

    // eBPF opcodes (Documentation/bpf/standardization/instruction-set.rst).
    const byte LoadDw = 0x79, StoreDw = 0x7b, StoreImmDw = 0x7a, Mov64Imm = 0xb7, Mov64Reg = 0xbf, Add64Imm = 0x07,
        JumpIfEqualImm = 0x15, Call = 0x85, Exit = 0x95;
    const int R0 = 0, R1 = 1, R2 = 2, R3 = 3, R6 = 6, R7 = 7, FramePointer = 10;
    const short Record = -TaskRecord.Size; // the record is built on the program's stack, just below its frame pointer

    public static ulong[] Build(Layout layout)
    {
        var code = new List<ulong>(48)
        {
            Op(LoadDw, R6, R1, 0, 0), // ctx->meta
            Op(LoadDw, R7, R1, 8, 0), // ctx->task: NULL once, after the last thread
        };
        for (short at = Record; at < 0; at += 8) code.Add(Op(StoreImmDw, FramePointer, 0, at, 0));
        var skipToWrite = code.Count;
        code.Add(0); // patched below: if (!task) write the empty record that ends the pass
        Copy(code, R7, layout.Pid, 0, 4);
        Copy(code, R7, layout.State, 4, 4);
        Copy(code, R7, layout.RunTime, 8, 8);
        Copy(code, R7, layout.OnCpu, 16, 4);
        Copy(code, R7, layout.ExitState, 20, 4);
        code.Add(Op(LoadDw, R2, R7, (short)layout.GroupLeader.Offset, 0));
        Copy(code, R2, layout.StartTime, 48, 8);
        code.Add(Op(Mov64Reg, R1, R7, 0, 0));
        code.Add(Op(Call, 0, 0, 0, HelperTaskPtRegs)); // r0 = the thread's saved user registers
        Copy(code, R0, layout.OrigAx, 24, 8);
        Copy(code, R0, layout.Ip, 32, 8);
        Copy(code, R0, layout.Sp, 40, 8);
        code[skipToWrite] = Op(JumpIfEqualImm, R7, 0, (short)(code.Count - skipToWrite - 1), 0);
        code.Add(Op(LoadDw, R1, R6, 0, 0)); // meta->seq
        code.Add(Op(Mov64Reg, R2, FramePointer, 0, 0));
        code.Add(Op(Add64Imm, R2, 0, 0, Record));
        code.Add(Op(Mov64Imm, R3, 0, 0, TaskRecord.Size));
        code.Add(Op(Call, 0, 0, 0, HelperSeqWrite));
        code.Add(Op(Mov64Imm, R0, 0, 0, 0));
        code.Add(Op(Exit, 0, 0, 0, 0));
        return code.ToArray();
    }

    /// <summary>Loads a member (of its own size) from the struct <paramref name="from"/> points to, and stores it into the record.</summary>
    static void Copy(List<ulong> code, int from, (int Offset, int Size) member, int recordOffset, int recordSize)
    {
        code.Add(Op(MemoryOp(0x61, member.Size), R2, from, (short)member.Offset, 0));
        code.Add(Op(MemoryOp(0x63, Math.Min(member.Size, recordSize)), FramePointer, R2, (short)(Record + recordOffset), 0));
    }

    /// <summary>A load (0x61) or store (0x63) opcode for a 1, 2, 4 or 8 byte access: the size sits in bits 3-4.</summary>
    static byte MemoryOp(byte wordOp, int size) => (byte)((wordOp & ~0x18) | size switch
    {
        1 => 0x10,
        2 => 0x08,
        4 => 0x00,
        8 => 0x18,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "no BPF access of that size"),
    });

    static ulong Op(byte code, int dst, int src, short offset, int imm) =>
        code | (ulong)((src << 4 | dst) & 0xff) << 8 | (ulong)(ushort)offset << 16 | (ulong)(uint)imm << 32;
}
