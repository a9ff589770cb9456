using System.Diagnostics;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Stops a set of threads of one process with PTRACE_SEIZE + PTRACE_INTERRUPT and lets them go with PTRACE_DETACH.
/// ptrace is per tracer thread, so every call on one instance must come from the same OS thread.
/// <para>
/// Never blocks waiting for a stop notification: when the target is a child of Snapper's own process (the demo,
/// a launched command), the runtime's SIGCHLD handling calls waitpid from another thread and can consume the
/// notification, and a blocking wait would then hold the target stopped forever. So stops are polled, a thread
/// that /proc shows in tracing stop counts as stopped, and PTRACE_GETSIGINFO recovers a signal whose stop
/// someone else reaped. A signal caught by a stop is always handed back on detach, so the target never loses one.
/// A thread that does not stop in time (deep in an uninterruptible syscall) is not waited for: the others are
/// resumed, and it is detached as soon as it does stop.
/// </para>
/// </summary>
sealed unsafe class ThreadStopper
{
    static readonly TimeSpan StopDeadline = TimeSpan.FromMilliseconds(100);
    // Only for notifications someone else reaped: a thread still on its way into the stop must not be taken for stopped.
    static readonly TimeSpan ProcCheckAfter = TimeSpan.FromMilliseconds(20);

    readonly int _pid;
    readonly List<StoppedThread> _stopped = new();
    readonly Dictionary<int, int> _indexByTid = new();
    readonly List<int> _pending = new();
    readonly HashSet<int> _lagging = new(); // seized, interrupted, not yet stopped: detach when they stop
    long _firstStopTicks;

    public ThreadStopper(int pid) => _pid = pid;

    public IReadOnlyList<StoppedThread> Stopped => _stopped;

    /// <summary>The last failure to seize a thread that was not a vanished thread (errno), or 0.</summary>
    public int LastSeizeErrno { get; private set; }

    /// <summary>Stops every thread in <paramref name="tids"/> that still exists. Returns how many are stopped.</summary>
    public int StopAll(ReadOnlySpan<int> tids)
    {
        _stopped.Clear();
        _indexByTid.Clear();
        _pending.Clear();
        LastSeizeErrno = 0;
        ReleaseLaggards();
        _firstStopTicks = Stopwatch.GetTimestamp();
        // Seize and interrupt all first, then wait: the threads stop in parallel, not one after another.
        foreach (var tid in tids)
        {
            if (_lagging.Contains(tid)) continue;
            if (Native.Ptrace(Native.PTRACE_SEIZE, tid, 0, 0) != 0)
            {
                var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno != Native.ESRCH) LastSeizeErrno = errno;
                continue;
            }
            Native.Ptrace(Native.PTRACE_INTERRUPT, tid, 0, 0);
            _pending.Add(tid);
        }
        WaitForStops();
        return _stopped.Count;
    }

    void WaitForStops()
    {
        while (_pending.Count > 0)
        {
            var elapsed = Stopwatch.GetElapsedTime(_firstStopTicks);
            for (var i = _pending.Count - 1; i >= 0; i--)
            {
                var tid = _pending[i];
                var outcome = Poll(tid, checkProc: elapsed >= ProcCheckAfter, out var signal);
                if (outcome == StopOutcome.Waiting) continue;
                _pending.RemoveAt(i);
                if (outcome == StopOutcome.Stopped) Add(tid, signal);
            }
            if (_pending.Count == 0) break;
            if (elapsed >= StopDeadline)
            {
                foreach (var tid in _pending) _lagging.Add(tid);
                _pending.Clear();
                break;
            }
            // Sleep, don't spin: on a small machine the threads we wait for need the CPU to reach their stop.
            Native.USleep(20);
        }
    }

    enum StopOutcome { Waiting, Stopped, Gone }

    /// <summary>Has the thread reached its ptrace stop? <paramref name="signal"/> is a signal to hand back on detach.</summary>
    StopOutcome Poll(int tid, bool checkProc, out int signal)
    {
        signal = 0;
        int status;
        var result = Native.WaitPid(tid, &status, Native.WALL | Native.WNOHANG);
        if (result == tid)
        {
            if (!Native.WifStopped(status)) return StopOutcome.Gone; // exited or killed
            // PTRACE_EVENT_STOP: our interrupt, or a group stop (the thread stays stopped after detach, as it should).
            // Anything else is a signal-delivery stop: the signal goes back on detach.
            if (Native.PtraceEvent(status) != Native.PTRACE_EVENT_STOP) signal = Native.WStopSig(status);
            return StopOutcome.Stopped;
        }
        if (result == -1 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Native.ECHILD)
            return StopOutcome.Gone; // no longer our tracee: it exited
        if (!checkProc) return StopOutcome.Waiting;
        // Someone else may have reaped the notification: ask the kernel directly.
        var state = ProcFs.ReadThreadState(_pid, tid);
        if (state == '?') return StopOutcome.Gone;
        if (state != 't') return StopOutcome.Waiting;
        // /proc says 't' a moment before the stop is complete; until then ptrace calls fail and we keep waiting.
        return TryGetSignalOfStop(tid, out signal) ? StopOutcome.Stopped : StopOutcome.Waiting;
    }

    /// <summary>
    /// The signal of a stop whose notification we did not see: GETSIGINFO fails with EINVAL for a group stop, names
    /// SIGTRAP with the event in si_code for our interrupt, and names the signal for a signal-delivery stop. Any
    /// other failure (ESRCH) means the thread is not in its stop yet: false, so that no signal is guessed away.
    /// </summary>
    static bool TryGetSignalOfStop(int tid, out int signal)
    {
        signal = 0;
        var info = stackalloc int[32]; // siginfo_t is 128 bytes: si_signo, si_errno, si_code, ...
        if (Native.Ptrace(Native.PTRACE_GETSIGINFO, tid, 0, (nint)info) != 0)
            return System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Native.EINVAL;
        var signo = info[0];
        var code = info[2];
        signal = signo == Native.SIGTRAP && code >> 8 == Native.PTRACE_EVENT_STOP ? 0 : signo;
        return true;
    }

    void Add(int tid, int pendingSignal)
    {
        Native.UserRegs regs;
        var haveRegs = Native.Ptrace(Native.PTRACE_GETREGS, tid, 0, (nint)(&regs)) == 0;
        _indexByTid[tid] = _stopped.Count;
        _stopped.Add(new StoppedThread(tid, haveRegs, regs, pendingSignal));
    }

    /// <summary>Detaches laggards from an earlier sample that have stopped since; forgets those that are gone.</summary>
    void ReleaseLaggards()
    {
        if (_lagging.Count == 0) return;
        foreach (var tid in _lagging.ToArray())
        {
            var outcome = Poll(tid, checkProc: true, out var signal);
            if (outcome == StopOutcome.Waiting) continue;
            if (outcome == StopOutcome.Stopped) Native.Ptrace(Native.PTRACE_DETACH, tid, 0, signal);
            _lagging.Remove(tid);
        }
    }

    public bool TryGetRegisters(int tid, out Native.UserRegs regs)
    {
        if (_indexByTid.TryGetValue(tid, out var index) && _stopped[index].HaveRegisters)
        {
            regs = _stopped[index].Registers;
            return true;
        }
        regs = default;
        return false;
    }

    /// <summary>Resumes every stopped thread; returns the pause imposed, first stop to last resume.</summary>
    public TimeSpan ResumeAll()
    {
        foreach (var thread in _stopped)
            Native.Ptrace(Native.PTRACE_DETACH, thread.Tid, 0, thread.PendingSignal);
        var pause = Stopwatch.GetElapsedTime(_firstStopTicks);
        _stopped.Clear();
        _indexByTid.Clear();
        return pause;
    }

    /// <summary>Waits (bounded) for laggards to stop so they can be detached before Snapper lets go of the target.</summary>
    public void ReleaseAll()
    {
        ResumeAll();
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        while (_lagging.Count > 0 && Stopwatch.GetTimestamp() < deadline)
        {
            ReleaseLaggards();
            if (_lagging.Count > 0) Thread.Sleep(1);
        }
        // Any still running are detached by the kernel when Snapper exits, with no stop left pending.
    }
}

/// <summary>A thread held stopped, with its registers read at the stop.</summary>
readonly record struct StoppedThread(int Tid, bool HaveRegisters, Native.UserRegs Registers, int PendingSignal);
