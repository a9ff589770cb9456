namespace Snapper.Sampling.Linux;

/// <summary>
/// The survey in one pass of a BPF program (see <see cref="ITaskReader"/>): every thread's id, run time,
/// scheduling state and saved user registers at once. A thread asleep in the kernel is blocked in the syscall its
/// registers name, as /proc/PID/task/TID/syscall would say. A thread that is runnable but not on a CPU, interrupted
/// in user code, is <see cref="ThreadActivity.Preempted"/>: its registers are exactly where it is, and stay so until
/// it next runs. Should a pass ever fail, the survey goes on from /proc for the rest of the capture.
/// </summary>
sealed class BpfThreadSurvey(int pid, ITaskReader reader) : IThreadSurvey
{
    static readonly bool Debug = DebugSwitch.Enabled;

    ITaskReader? _reader = reader;
    ProcThreadSurvey? _fallback;
    int[] _tids = [];
    TaskRecord[] _records = [];
    readonly Dictionary<int, int> _indexByTid = new();
    ulong? _leaderStartTime;

    public int[] Take()
    {
        if (_fallback is not null) return _fallback.Take();
        var pass = _reader!.Read();
        if (_reader.Failed)
        {
            if (Debug) Console.Error.WriteLine($"{_reader.Description} failed; threads are read from /proc from now on");
            _reader.Dispose();
            _reader = null;
            _fallback = new ProcThreadSurvey(pid);
            return _fallback.Take();
        }
        if (!IsSameProcess(pass)) return [];
        if (_records.Length < pass.Length) _records = new TaskRecord[Math.Max(pass.Length, 2 * _records.Length)];
        var count = 0;
        var changed = false;
        foreach (ref readonly var task in pass)
        {
            if (task.ExitState != 0) continue; // exited, not yet reaped: /proc lists no such thread either
            changed |= count >= _tids.Length || _tids[count] != task.Tid;
            _records[count++] = task;
        }
        if (changed || count != _tids.Length)
        {
            _tids = new int[count];
            _indexByTid.Clear();
            for (var i = 0; i < count; i++)
            {
                _tids[i] = _records[i].Tid;
                _indexByTid[_tids[i]] = i;
            }
        }
        return _tids;
    }

    /// <summary>
    /// The process is there, alive, and the one first surveyed: its main thread has not exited (a process whose main
    /// thread is a zombie is exiting) and started when it did the first time (not another process given the same pid).
    /// </summary>
    bool IsSameProcess(ReadOnlySpan<TaskRecord> pass)
    {
        foreach (ref readonly var task in pass)
        {
            if (task.Tid != pid) continue;
            _leaderStartTime ??= task.LeaderStartTime;
            return task.ExitState == 0 && task.LeaderStartTime == _leaderStartTime;
        }
        return false;
    }

    public ulong? RunTime(int tid)
    {
        if (_fallback is not null) return _fallback.RunTime(tid);
        return _indexByTid.TryGetValue(tid, out var i) ? _records[i].RunTimeNs : null;
    }

    public ThreadActivity Activity(int tid)
    {
        if (_fallback is not null) return _fallback.Activity(tid);
        if (!_indexByTid.TryGetValue(tid, out var i)) return ThreadActivity.Vanished;
        ref readonly var task = ref _records[i];
        // Running, or just now going to sleep: only a stop tells.
        if (task.OnCpu != 0) return ThreadActivity.Unknown with { OnCpu = true, Switches = task.Switches };
        if (task.State == 0)
            return task.OrigAx < 0
                ? ThreadActivity.Unknown with { StackPointer = task.Sp, ProgramCounter = task.Ip, Preempted = true, Switches = task.Switches }
                : ThreadActivity.Unknown with { Switches = task.Switches }; // woken in a syscall, not yet back in user code
        // Asleep or stopped: registers as saved when it entered the kernel (a syscall number, or -1 outside one).
        return new ThreadActivity(false, task.Sp, task.Ip, Syscall: task.OrigAx < 0 ? -1 : (int)task.OrigAx) { Switches = task.Switches };
    }

    public bool TryRegisters(int tid, out Native.UserRegs registers)
    {
        registers = default;
        if (_fallback is not null || !_indexByTid.TryGetValue(tid, out var i) || _records[i].OnCpu != 0) return false;
        registers = _records[i].Registers.ToUserRegs();
        return true;
    }

    public bool SurveysAtOnce => _fallback is null;

    public void Invalidate() => _fallback?.Invalidate(); // every pass lists afresh

    public void Retain(HashSet<int> live) => _fallback?.Retain(live);

    public void Dispose()
    {
        _reader?.Dispose();
        _fallback?.Dispose();
    }
}
