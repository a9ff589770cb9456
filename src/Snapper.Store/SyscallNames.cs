using System.Globalization;

namespace Snapper.Store;

/// <summary>
/// Names of the system calls a sampled thread is usually found blocked in. Numbers differ per architecture, so the
/// store keeps the number and the session its architecture; a number not listed reads as <c>syscall 123</c>.
/// </summary>
public static class SyscallNames
{
    static readonly Dictionary<int, string> X64 = new()
    {
        [0] = "read", [1] = "write", [2] = "open", [3] = "close", [7] = "poll", [9] = "mmap", [10] = "mprotect",
        [11] = "munmap", [12] = "brk", [16] = "ioctl", [17] = "pread64", [18] = "pwrite64", [19] = "readv",
        [20] = "writev", [23] = "select", [24] = "sched_yield", [28] = "madvise", [34] = "pause", [35] = "nanosleep",
        [40] = "sendfile", [42] = "connect", [43] = "accept", [44] = "sendto", [45] = "recvfrom", [46] = "sendmsg",
        [47] = "recvmsg", [56] = "clone", [61] = "wait4", [72] = "fcntl", [74] = "fsync", [75] = "fdatasync",
        [202] = "futex", [208] = "io_getevents", [209] = "io_submit", [219] = "restart_syscall",
        [230] = "clock_nanosleep", [232] = "epoll_wait", [247] = "waitid", [257] = "openat", [270] = "pselect6",
        [271] = "ppoll", [275] = "splice", [281] = "epoll_pwait", [288] = "accept4", [299] = "recvmmsg",
        [307] = "sendmmsg", [318] = "getrandom", [426] = "io_uring_enter", [441] = "epoll_pwait2", [449] = "futex_waitv",
    };

    static readonly Dictionary<int, string> Arm64 = new()
    {
        [22] = "epoll_pwait", [29] = "ioctl", [56] = "openat", [57] = "close", [63] = "read", [64] = "write",
        [65] = "readv", [66] = "writev", [67] = "pread64", [68] = "pwrite64", [71] = "sendfile", [72] = "pselect6",
        [73] = "ppoll", [76] = "splice", [82] = "fsync", [83] = "fdatasync", [95] = "waitid", [98] = "futex",
        [101] = "nanosleep", [115] = "clock_nanosleep", [124] = "sched_yield", [128] = "restart_syscall",
        [202] = "accept", [203] = "connect", [206] = "sendto", [207] = "recvfrom", [211] = "sendmsg", [212] = "recvmsg",
        [215] = "munmap", [220] = "clone", [222] = "mmap", [226] = "mprotect", [233] = "madvise", [242] = "accept4",
        [243] = "recvmmsg", [260] = "wait4", [269] = "sendmmsg", [278] = "getrandom", [426] = "io_uring_enter",
        [441] = "epoll_pwait2", [449] = "futex_waitv",
    };

    /// <summary>The architecture name stored with a session captured on this machine.</summary>
    public static string CurrentArchitecture =>
        System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();

    /// <summary>The name of syscall <paramref name="number"/> on <paramref name="architecture"/>; null for -1 (none).</summary>
    public static string? Name(string architecture, int number)
    {
        if (number < 0) return null;
        var table = architecture == "arm64" ? Arm64 : X64;
        return table.TryGetValue(number, out var name) ? name : "syscall " + number.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The number of a named syscall on <paramref name="architecture"/>, or -1.</summary>
    public static int Number(string architecture, string name)
    {
        var table = architecture == "arm64" ? Arm64 : X64;
        foreach (var (number, known) in table)
            if (known == name) return number;
        return -1;
    }
}
