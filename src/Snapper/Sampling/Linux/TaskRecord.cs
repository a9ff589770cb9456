using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Snapper.Sampling.Linux;

/// <summary>
/// One thread as the kernel keeps it, written by Snapper's BPF programs (<see cref="TaskRecordWriter"/>): 216 bytes,
/// little-endian. In the iterator's output, a record whose <see cref="Tid"/> is 0 marks the end of a pass.
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
    /// <summary>When the process's main thread started (ns since boot): tells this process from a later one given the same pid.</summary>
    public ulong LeaderStartTime;
    /// <summary>nvcsw and nivcsw: how often the thread has been switched off a CPU, by sleeping or by preemption.</summary>
    public ulong VoluntarySwitches, InvoluntarySwitches;
    /// <summary>The user registers saved when the thread last entered the kernel (struct pt_regs, which begins as
    /// user_regs_struct does): exact for a thread that is not on a CPU, until it runs again.</summary>
    public SavedRegisters Registers;

    public const int Size = 216;
    public const int RegistersOffset = 48;

    public readonly long OrigAx => (long)Registers[SavedRegisters.OrigAx];
    public readonly ulong Ip => Registers[SavedRegisters.Ip];
    public readonly ulong Sp => Registers[SavedRegisters.Sp];
    public readonly ulong Switches => VoluntarySwitches + InvoluntarySwitches;
}

/// <summary>x86_64 struct pt_regs: r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss.</summary>
[InlineArray(Count)]
struct SavedRegisters
{
    public const int Count = 21, Bp = 4, OrigAx = 15, Ip = 16, Sp = 19;
    ulong _first;

    /// <summary>As ptrace's PTRACE_GETREGS gives them (the segment bases, not saved here, left zero).</summary>
    public readonly Native.UserRegs ToUserRegs()
    {
        var regs = default(Native.UserRegs);
        ReadOnlySpan<ulong> saved = this;
        saved.CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.As<Native.UserRegs, ulong>(ref regs), Count));
        return regs;
    }
}
