namespace Snapper.Sampling.Linux;

/// <summary>
/// The survey from /proc: the thread list (<see cref="ThreadList"/>), then one schedstat read per thread for its run
/// time and one syscall-file read per thread, each asked for separately.
/// </summary>
sealed class ProcThreadSurvey(int pid) : IThreadSurvey
{
    readonly ThreadList _threads = new(pid);
    readonly RunTimeReader _runTimes = new(pid);
    readonly SyscallReader _syscalls = new(pid);

    public int[] Take() => _threads.Read();

    public ulong? RunTime(int tid) => _runTimes.Read(tid);

    public ThreadActivity Activity(int tid) => _syscalls.Read(tid);

    public bool TryRegisters(int tid, out Native.UserRegs registers)
    {
        registers = default; // /proc/PID/task/TID/syscall has only the stack pointer and pc
        return false;
    }

    public bool SurveysAtOnce => false;

    public void Invalidate() => _threads.Invalidate();

    public void Retain(HashSet<int> live)
    {
        _runTimes.Retain(live);
        _syscalls.Retain(live);
    }

    public void Dispose()
    {
        _threads.Dispose();
        _runTimes.Dispose();
        _syscalls.Dispose();
    }
}
