using System.Runtime.InteropServices;

namespace Snapper.Sampling.Linux;

/// <summary>The libc calls Snapper needs. This folder is the only place that P/Invokes.</summary>
static unsafe partial class Native
{
    public const int PTRACE_GETREGS = 12;
    public const int PTRACE_DETACH = 17;
    public const int PTRACE_GETSIGINFO = 0x4202;
    public const int PTRACE_SEIZE = 0x4206;
    public const int PTRACE_INTERRUPT = 0x4207;
    public const int PTRACE_EVENT_STOP = 128;
    public const int WALL = 0x40000000;
    public const int WNOHANG = 1;
    public const int ESRCH = 3, EPERM = 1, EINTR = 4, ECHILD = 10, EINVAL = 22;
    public const int SIGTRAP = 5, SIGSTOP = 19;

    [LibraryImport("libc", EntryPoint = "ptrace", SetLastError = true)]
    public static partial long Ptrace(long request, int pid, nint addr, nint data);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport("libc", EntryPoint = "process_vm_readv", SetLastError = true)]
    public static partial nint ProcessVmReadv(int pid, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    public static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    public static partial int GetTid();

    public const int PRIO_PROCESS = 0;

    /// <summary>sched_setscheduler(2); <paramref name="priority"/> points to a struct sched_param (one int).</summary>
    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    public static partial int SchedSetScheduler(int pid, int policy, int* priority);

    public const int SCHED_OTHER = 0, SCHED_FIFO = 1;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    public const int SIGKILL = 9;

    /// <summary>sigaction(2) with glibc's <c>struct sigaction</c> (see <see cref="SigAction"/>).</summary>
    [LibraryImport("libc", EntryPoint = "sigaction", SetLastError = true)]
    public static partial int SigActionCall(int signal, SigAction* action, SigAction* old);

    public const int SIGCHLD = 17;
    public const int SA_NOCLDSTOP = 1;

    /// <summary>
    /// glibc's <c>struct sigaction</c> on x86_64 and arm64: the handler, a 1024-bit mask, the flags (an int, padded),
    /// the restorer. Only the flags are ever changed; the rest is handed back as it was read.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SigAction
    {
        public nint Handler;
        public fixed ulong Mask[16];
        public int Flags;
        public nint Restorer;
    }

    /// <summary>statx(2); <paramref name="path"/> is a NUL-terminated UTF-8 path, <paramref name="buffer"/> 256 bytes.</summary>
    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    public static partial int Statx(int directoryFd, byte* path, int flags, uint mask, byte* buffer);

    public const int AT_FDCWD = -100;
    public const uint STATX_NLINK = 0x4;
    /// <summary>Offset of stx_nlink (a u32) in struct statx: after stx_mask, stx_blksize (u32 each) and stx_attributes (u64).</summary>
    public const int StatxNlinkOffset = 16;

    /// <summary>
    /// bpf(2), which glibc does not wrap: through syscall(3). That is variadic; on x86_64 integer arguments are passed
    /// the same way either way, and syscall(3) reads none of the vector registers a variadic call would count.
    /// </summary>
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, long command, void* attributes, long size);

    /// <summary>The bpf(2) system call's number on x86_64 (the only architecture whose registers Snapper reads).</summary>
    public const long SYS_bpf = 321;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    public static partial int Munmap(nint address, nuint length);

    public const int PROT_READ = 1, MAP_SHARED = 1;
    public static readonly nint MAP_FAILED = -1;

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "usleep")]
    public static partial int USleep(uint microseconds);

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    public const int CLOCK_THREAD_CPUTIME_ID = 3;

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    public static partial int ClockGetTime(int clock, TimeSpec* time);

    /// <summary>The CPU time the calling thread has used (one system call: the vDSO does not serve CPU clocks).</summary>
    public static TimeSpan ThreadCpuTime()
    {
        TimeSpec time;
        return ClockGetTime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 ? TimeSpan.FromTicks(time.Seconds * TimeSpan.TicksPerSecond + time.Nanoseconds / 100) : TimeSpan.Zero;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public nint Base;
        public nuint Length;
    }

    /// <summary>x86_64 <c>struct user_regs_struct</c>, as PTRACE_GETREGS fills it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UserRegs
    {
        public ulong R15, R14, R13, R12, Rbp, Rbx, R11, R10, R9, R8, Rax, Rcx, Rdx, Rsi, Rdi, OrigRax, Rip, Cs, EFlags, Rsp, Ss,
            FsBase, GsBase, Ds, Es, Fs, Gs;
    }

    public static bool WifStopped(int status) => (status & 0xff) == 0x7f;
    public static int WStopSig(int status) => (status >> 8) & 0xff;
    public static int PtraceEvent(int status) => status >> 16;
}
