using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>
/// Sees through <c>restart_syscall</c>. Stopping a thread that sleeps with a timeout interrupts its syscall, and the
/// kernel resumes it as restart_syscall, which hides what it was doing (clock_nanosleep, a timed futex, poll): keep
/// each thread's last real syscall and report that instead.
/// </summary>
sealed class SyscallHistory
{
    static readonly int RestartSyscall = SyscallNames.Number(SyscallNames.CurrentArchitecture, "restart_syscall");

    readonly Dictionary<int, int> _last = new();

    public int Resolve(int tid, int syscall)
    {
        if (syscall < 0) return syscall;
        if (syscall != RestartSyscall)
        {
            _last[tid] = syscall;
            return syscall;
        }
        return _last.TryGetValue(tid, out var real) ? real : syscall;
    }

    public void Retain(HashSet<int> live)
    {
        _last.KeepOnly(live);
    }
}
