namespace Snapper.Sampling.Linux;

/// <summary>
/// Where the members a <see cref="TaskRecord"/> is made of sit in the running kernel, read from its BTF (offsets differ
/// between builds and are shuffled by structure randomisation), and the instructions that copy them. The verifier
/// checks every load against those types; reads of kernel memory it cannot prove safe become fault-tolerant ones.
/// </summary>
sealed record TaskRecordWriter(
    (int Offset, int Size) Pid, (int Offset, int Size) State, (int Offset, int Size) OnCpu, (int Offset, int Size) ExitState,
    (int Offset, int Size) RunTime, (int Offset, int Size) GroupLeader, (int Offset, int Size) StartTime,
    (int Offset, int Size) VoluntarySwitches, (int Offset, int Size) InvoluntarySwitches)
{
    public const int HelperTaskPtRegs = 175;
    const int PtRegsSize = SavedRegisters.Count * 8;

    /// <summary>Null when this kernel's structs lack a member (an old kernel, not x86_64).</summary>
    public static TaskRecordWriter? Of(Btf btf)
    {
        if (btf.FindId(Btf.KindStruct, "task_struct") is not { } task) return null;
        if (btf.FindId(Btf.KindStruct, "pt_regs") is not { } regs || !IsX64PtRegs(btf, regs)) return null;
        // __state replaced the long "state" in 5.14; either reads the same way (the low 32 bits).
        var state = btf.Member(task, "__state") ?? btf.Member(task, "state");
        var writer = btf.Member(task, "pid") is { } pid && state is { } s && btf.Member(task, "on_cpu") is { } onCpu
            && btf.Member(task, "exit_state") is { } exit && btf.Member(task, "se", "sum_exec_runtime") is { } runTime
            && btf.Member(task, "group_leader") is { Size: 8 } leader && btf.Member(task, "start_time") is { } start
            && btf.Member(task, "nvcsw") is { } nvcsw && btf.Member(task, "nivcsw") is { } nivcsw
            ? new TaskRecordWriter(pid, s, onCpu, exit, runTime, leader, start, nvcsw, nivcsw)
            : null;
        return writer is not null && writer.Members().All(m => m.Size is 1 or 2 or 4 or 8) ? writer : null;
    }

    /// <summary>
    /// x86_64's pt_regs, the 21 words the record copies whole: its layout is the kernel's ABI with user space (ptrace's
    /// user_regs_struct begins the same way), checked here rather than assumed.
    /// </summary>
    static bool IsX64PtRegs(Btf btf, int regs) =>
        btf.SizeOf(regs) == PtRegsSize && btf.Member(regs, "r15") is (0, 8) && btf.Member(regs, "bp") is (SavedRegisters.Bp * 8, 8)
        && btf.Member(regs, "orig_ax") is (SavedRegisters.OrigAx * 8, 8) && btf.Member(regs, "ip") is (SavedRegisters.Ip * 8, 8)
        && btf.Member(regs, "sp") is (SavedRegisters.Sp * 8, 8);

    IEnumerable<(int Offset, int Size)> Members() => [Pid, State, OnCpu, ExitState, RunTime, GroupLeader, StartTime, VoluntarySwitches, InvoluntarySwitches];

    /// <summary>
    /// Writes the record of the task_struct in <paramref name="task"/> at <paramref name="record"/> + <paramref name="at"/>.
    /// Both registers must survive a helper call (R6-R9, or the frame pointer); R0-R5 are clobbered.
    /// </summary>
    public void Emit(BpfAssembler code, int task, int record, int at)
    {
        code.CopyMember(task, Pid, record, at + 0, 4);
        code.CopyMember(task, State, record, at + 4, 4);
        code.CopyMember(task, RunTime, record, at + 8, 8);
        code.CopyMember(task, OnCpu, record, at + 16, 4);
        code.CopyMember(task, ExitState, record, at + 20, 4);
        code.CopyMember(task, VoluntarySwitches, record, at + 32, 8);
        code.CopyMember(task, InvoluntarySwitches, record, at + 40, 8);
        code.Load(8, BpfAssembler.R2, task, GroupLeader.Offset);
        code.CopyMember(BpfAssembler.R2, StartTime, record, at + 24, 8);
        code.Move(BpfAssembler.R1, task);
        code.Call(HelperTaskPtRegs); // r0 = the thread's saved user registers
        for (var i = 0; i < SavedRegisters.Count; i++)
            code.CopyMember(BpfAssembler.R0, (i * 8, 8), record, at + TaskRecord.RegistersOffset + i * 8, 8);
    }
}
