using System.Runtime.InteropServices;
using System.Text;

namespace Snapper.Sampling.Linux;

/// <summary>
/// The few bpf(2) commands Snapper uses, over union bpf_attr laid out by hand (include/uapi/linux/bpf.h).
/// With SNAPPER_DEBUG set, a program the kernel refuses prints the verifier's log.
/// </summary>
static unsafe class Bpf
{
    /// <summary>bpf(2)'s union bpf_attr as of Linux 6.1; larger kernels accept it (the rest counts as zero).</summary>
    const int AttributesSize = 144;

    const int MapCreate = 0, ProgramLoad = 5, ProgramRun = 10, LinkCreate = 28, IteratorCreate = 33;
    public const int ProgramTypeTracing = 26, ProgramTypeSyscall = 31, AttachTraceIterator = 28;
    public const int FlagSleepable = 1 << 4;
    const int MapTypeArray = 2, MapFlagMmapable = 1 << 10;

    /// <summary>
    /// The kernel lets only GPL-compatible programs call the helpers and kernel functions Snapper's programs need
    /// (bpf_seq_write, bpf_task_pt_regs, the task iterator); it accepts "Dual MIT/GPL" as such. It covers the few
    /// instructions Snapper generates, nothing else of Snapper.
    /// </summary>
    static readonly byte[] License = "Dual MIT/GPL\0"u8.ToArray();

    static readonly bool Debug = DebugSwitch.Enabled;

    /// <summary>Loads a program; its fd, or -1 with why not.</summary>
    public static int LoadProgram(ulong[] instructions, string name, int type, int flags, int attachType, int attachBtfId, out string? whyNot)
    {
        whyNot = null;
        var attributes = stackalloc byte[AttributesSize];
        new Span<byte>(attributes, AttributesSize).Clear();
        var log = Debug ? GC.AllocateArray<byte>(1 << 20, pinned: true) : null;
        fixed (ulong* code = instructions)
        fixed (byte* license = License)
        fixed (byte* logBuffer = log)
        {
            *(int*)(attributes + 0) = type;
            *(int*)(attributes + 4) = instructions.Length;
            *(ulong*)(attributes + 8) = (ulong)code;
            *(ulong*)(attributes + 16) = (ulong)license;
            if (log is not null)
            {
                *(int*)(attributes + 24) = 1; // log_level: the verifier's reasons for a refusal
                *(int*)(attributes + 28) = log.Length;
                *(ulong*)(attributes + 32) = (ulong)logBuffer;
            }
            *(int*)(attributes + 44) = flags;
            Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, 15)), new Span<byte>(attributes + 48, 16)); // shown by bpftool while loaded
            *(int*)(attributes + 68) = attachType;
            *(int*)(attributes + 108) = attachBtfId;
            var fd = Invoke(ProgramLoad, attributes);
            if (fd >= 0) return fd;
            whyNot = $"the kernel refused the program: {Describe(Marshal.GetLastPInvokeError())}";
            if (log is not null) Console.Error.WriteLine($"the BPF verifier's log for {name}:\n{Encoding.ASCII.GetString(log, 0, Math.Max(0, Array.IndexOf(log, (byte)0)))}");
            return -1;
        }
    }

    /// <summary>An array map of one element of <paramref name="valueSize"/> bytes that user space can mmap; its fd, or -1.</summary>
    public static int CreateMappableArray(int valueSize, string name)
    {
        var attributes = stackalloc byte[AttributesSize];
        new Span<byte>(attributes, AttributesSize).Clear();
        *(int*)(attributes + 0) = MapTypeArray;
        *(int*)(attributes + 4) = 4; // key: the element's index
        *(int*)(attributes + 8) = valueSize;
        *(int*)(attributes + 12) = 1;
        *(int*)(attributes + 16) = MapFlagMmapable;
        Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, 15)), new Span<byte>(attributes + 28, 16));
        return Invoke(MapCreate, attributes);
    }

    /// <summary>Runs a syscall program once (BPF_PROG_RUN); false when the kernel would not.</summary>
    public static bool RunProgram(int programFd)
    {
        var attributes = stackalloc byte[AttributesSize];
        new Span<byte>(attributes, AttributesSize).Clear();
        *(int*)attributes = programFd;
        return Invoke(ProgramRun, attributes) == 0;
    }

    /// <summary>A link attaching an iterator program to the threads of one process (Linux 6.1+); its fd, or -1.</summary>
    public static int CreateTaskIteratorLink(int programFd, int pid)
    {
        var attributes = stackalloc byte[AttributesSize];
        new Span<byte>(attributes, AttributesSize).Clear();
        var linkInfo = stackalloc uint[4]; // union bpf_iter_link_info: task.tid, task.pid, task.pid_fd
        new Span<uint>(linkInfo, 4).Clear();
        linkInfo[1] = (uint)pid;
        *(int*)(attributes + 0) = programFd;
        *(int*)(attributes + 8) = AttachTraceIterator;
        *(ulong*)(attributes + 16) = (ulong)linkInfo;
        *(int*)(attributes + 24) = 16;
        return Invoke(LinkCreate, attributes);
    }

    /// <summary>A new pass of an iterator link: a file to read to its end, then close; -1 on failure.</summary>
    public static int CreateIterator(int linkFd)
    {
        var attributes = stackalloc byte[AttributesSize];
        new Span<byte>(attributes, AttributesSize).Clear();
        *(int*)attributes = linkFd;
        return Invoke(IteratorCreate, attributes);
    }

    public static string Describe(int errno) => errno switch
    {
        Native.EPERM => "permission denied (needs root, or CAP_BPF and CAP_PERFMON)",
        _ => Marshal.GetPInvokeErrorMessage(errno),
    };

    static int Invoke(int command, byte* attributes) => (int)Native.Syscall(Native.SYS_bpf, command, attributes, AttributesSize);
}
