using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>
/// Decides a sample's <see cref="SampleState"/> from where the thread was (running, or the syscall it was in) and
/// its stack. The syscall alone cannot tell most waits apart: in .NET, Monitor.Wait, Thread.Sleep and a parked
/// thread-pool worker all block in futex. So the stack decides sleeping and idling first, and the syscall the rest.
/// </summary>
public static class SampleStateRules
{
    static readonly HashSet<string> SleepSyscalls = ["nanosleep", "clock_nanosleep", "pause"];

    static readonly HashSet<string> IoSyscalls =
    [
        "read", "write", "pread64", "pwrite64", "readv", "writev", "recvfrom", "recvmsg", "recvmmsg", "sendto", "sendmsg",
        "sendmmsg", "sendfile", "splice", "accept", "accept4", "connect", "poll", "ppoll", "select", "pselect6",
        "epoll_wait", "epoll_pwait", "epoll_pwait2", "io_getevents", "io_submit", "io_uring_enter", "open", "openat",
        "fsync", "fdatasync", "ioctl",
    ];

    /// <summary>
    /// System calls that do kernel work on the CPU rather than wait. The clock reads are here because where the vDSO
    /// cannot read the clock (a VM whose clock source it does not support) every Stopwatch read is a real system call:
    /// a thread spinning on Stopwatch was 92% "lock/wait" on such a VM, and its CPU went to "[ran between samples]".
    /// </summary>
    static readonly HashSet<string> CpuSyscalls =
    [
        "sched_yield", "mmap", "munmap", "mprotect", "madvise", "brk", "clone", "getrandom",
        "clock_gettime", "clock_getres", "gettimeofday", "time", "getcpu",
    ];

    /// <summary>Frames (type, method; null method = any) that show a thread waiting for the runtime to give it work.</summary>
    static readonly (string Type, string? Method)[] IdleFrames =
    [
        ("System.Threading.LowLevelLifoSemaphore", null),
        ("System.Threading.PortableThreadPool+GateThread", "GateThreadStart"),
        ("System.Threading.PortableThreadPool+WaitThread", "WaitThreadStart"),
        ("System.Threading.TimerQueue", "TimerThread"),
        ("System.Net.Sockets.SocketAsyncEngine", "EventLoop"),
    ];

    /// <param name="runnable">The thread was on a CPU or waiting for one at the snapshot (see ThreadStack.Runnable): in a
    /// system call, it was running in the kernel or had been woken, whatever the call: "cpu". Then "lock/wait" means
    /// asleep, as the other waiting states do, and its CPU can go where the rule for those says (BetweenSamples).</param>
    public static SampleState Classify(IReadOnlyList<FrameInfo> framesOutermostFirst, SampleActivity activity, string? syscall, string? role,
        bool runnable = false)
    {
        switch (activity)
        {
            case SampleActivity.ManagedCode or SampleActivity.NativeCode:
                return SampleState.Cpu;
            case SampleActivity.Unknown:
                return SampleState.Unknown;
        }
        if (runnable || syscall is not null && CpuSyscalls.Contains(syscall)) return SampleState.Cpu;
        if (FromStack(framesOutermostFirst, role) is { } byStack) return byStack;
        if (syscall is null) return SampleState.LockWait; // blocked, but not in a syscall we can name: a stop by someone else
        if (SleepSyscalls.Contains(syscall)) return SampleState.Sleep;
        if (IoSyscalls.Contains(syscall)) return SampleState.Io;
        return SampleState.LockWait; // futex, wait4, and the rest
    }

    /// <summary>The innermost decisive frame wins: Thread.Sleep means sleeping, a thread-pool park means idle.</summary>
    static SampleState? FromStack(IReadOnlyList<FrameInfo> frames, string? role)
    {
        var anyManaged = false;
        for (var i = frames.Count - 1; i >= 0; i--)
        {
            var frame = frames[i];
            if (frame.Kind != FrameKind.Managed)
            {
                // The runtime's sleep, as a QCall frame names it ("QCall!ThreadNative_Sleep"), or bare.
                if (frame.MethodName is "QCall!ThreadNative_Sleep" or "ThreadNative_Sleep") return SampleState.Sleep;
                continue;
            }
            anyManaged = true;
            if (frame.TypeName == "System.Threading.Thread" && frame.MethodName is "Sleep" or "SleepInternal") return SampleState.Sleep;
            foreach (var (type, method) in IdleFrames)
                if (frame.TypeName == type && (method is null || frame.MethodName == method)) return SampleState.IdleThreadPool;
        }
        // The finalizer or tiered compilation thread, blocked with no managed code on its stack, is waiting for work.
        return !anyManaged && ClrMd.ThreadRoles.IsRuntimeService(role) ? SampleState.IdleThreadPool : null;
    }
}
