using System.Runtime.InteropServices;

namespace Snapper.Sampling.Linux;

/// <summary>
/// One thread as the kernel keeps it, written by Snapper's BPF programs (<see cref="TaskRecordWriter"/>): 56 bytes,
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
    /// <summary>The user registers saved when the thread last entered the kernel: a syscall number (negative when it came in from an interrupt), pc, sp.</summary>
    public long OrigAx;
    public ulong Ip;
    public ulong Sp;
    /// <summary>When the process's main thread started (ns since boot): tells this process from a later one given the same pid.</summary>
    public ulong LeaderStartTime;

    public const int Size = 56;
}
