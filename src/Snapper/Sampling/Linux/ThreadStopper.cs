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
/// resumed, and it is detached as soon as it does stop: the sampler polls for it between snapshots
/// (<see cref="ReleaseLaggards"/>), every millisecond, instead of leaving it held until the next snapshot (an hour with
/// --interval 1h). The time it was held counts in the pause of the next snapshot (the one it missed is stored by then).
/// </para>
/// </summary>
sealed unsafe class ThreadStopper
{
    static readonly TimeSpan StopDeadline = TimeSpan.FromMilliseconds(100);
    // Only for notifications someone else reaped: a thread still on its way into the stop must not be taken for stopped.
    static readonly TimeSpan ProcCheckAfter = TimeSpan.FromMilliseconds(20);
    const int FirstPollSleepUs = 20, LastPollSleepUs = 160;
    /// <summary>How often a laggard is polled between snapshots: how long it may be held once it enters its stop.</summary>
    public static readonly TimeSpan LaggardPollInterval = TimeSpan.FromMilliseconds(1);
    // waitpid says at once when a laggard stops; /proc is read only for a notification someone else may have reaped.
    static readonly TimeSpan LaggardProcCheckInterval = TimeSpan.FromMilliseconds(16);

    readonly int _pid;
    readonly List<StoppedThread> _stopped = new();
    readonly Dictionary<int, int> _indexByTid = new();
    readonly List<int> _pending = new();
    readonly HashSet<int> _asked = new();
    readonly HashSet<int> _lagging = new(); // seized, interrupted, not yet stopped: detach when they stop
    long _interruptedAt;
    long _notYetStoppedAt; // when the last poll found the pending threads still on their way
    int _sleepUs;
    long? _firstStopAt; // the earliest moment a thread of those held now can have entered its stop
    TimeSpan _held; // this snapshot's holds of threads already let go
    long _laggardsPolledAt, _laggardsProcCheckedAt; // the last poll that found them all still on their way
    TimeSpan _laggardsHeld;

    public ThreadStopper(int pid) => _pid = pid;

    public IReadOnlyList<StoppedThread> Stopped => _stopped;

    /// <summary>The threads asked to stop since <see cref="Begin"/>, stopped or on their way.</summary>
    public IReadOnlySet<int> Asked => _asked;

    /// <summary>The last failure to seize a thread that was not a vanished thread (errno), or 0.</summary>
    public int LastSeizeErrno { get; private set; }

    /// <summary>Stops every thread in <paramref name="tids"/> that still exists, all at once. Returns how many are stopped.</summary>
    public int StopAll(ReadOnlySpan<int> tids)
    {
        Begin();
        foreach (var tid in tids) Interrupt(tid);
        while (WaitForStops() > 0)
        {
        }
        return _stopped.Count;
    }

    /// <summary>Starts a snapshot's stop: forgets the last one; the stop deadline runs from now (the pause, from the first thread stopped).</summary>
    public void Begin()
    {
        _stopped.Clear();
        _indexByTid.Clear();
        _pending.Clear();
        _asked.Clear();
        LastSeizeErrno = 0;
        ReleaseLaggards();
        _interruptedAt = Stopwatch.GetTimestamp();
        _notYetStoppedAt = _interruptedAt;
        _sleepUs = FirstPollSleepUs;
        _firstStopAt = null;
        _held = TimeSpan.Zero;
    }

    /// <summary>Gives threads asked from now on a stop deadline of their own (a second round of asks within one hold).</summary>
    public void RestartDeadline()
    {
        _interruptedAt = Stopwatch.GetTimestamp();
        _sleepUs = FirstPollSleepUs;
    }

    /// <summary>
    /// Asks a thread to stop, without waiting: interrupt every thread first, then wait, and they stop in parallel, not
    /// one after another; work done between the two overlaps with the threads' way into their stops.
    /// </summary>
    public void Interrupt(int tid)
    {
        if (_lagging.Contains(tid)) return;
        if (Native.Ptrace(Native.PTRACE_SEIZE, tid, 0, 0) != 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno != Native.ESRCH) LastSeizeErrno = errno;
            return;
        }
        Native.Ptrace(Native.PTRACE_INTERRUPT, tid, 0, 0);
        _pending.Add(tid);
        _asked.Add(tid);
    }

    /// <summary>
    /// Waits until some interrupted threads have stopped, and returns how many stopped since the last call: the caller
    /// walks them and lets them go (<see cref="ReleaseStopped"/>) before it waits for the others, so that a thread that
    /// must first wait for a CPU (4-50 ms on a loaded 2-vCPU machine) holds no thread that stopped in microseconds.
    /// Holding every stopped thread until the last one stopped made 101 of 160 pauses over 2 ms on ShopService under wrk.
    /// Returns 0 once none is on its way (any left past the deadline become laggards).
    /// </summary>
    /// <param name="beforeSleep">Called before each sleep between polls, while the caller may want to be sure of waking
    /// on time (see PtraceStackSource).</param>
    public int WaitForStops(Action? beforeSleep = null)
    {
        var before = _stopped.Count;
        while (_pending.Count > 0)
        {
            var pollAt = Stopwatch.GetTimestamp();
            var elapsed = Stopwatch.GetElapsedTime(_interruptedAt, pollAt);
            for (var i = _pending.Count - 1; i >= 0; i--)
            {
                var tid = _pending[i];
                var outcome = Poll(tid, checkProc: elapsed >= ProcCheckAfter, out var signal);
                if (outcome == StopOutcome.Waiting) continue;
                _pending.RemoveAt(i);
                if (outcome != StopOutcome.Stopped) continue;
                Add(tid, signal);
                _firstStopAt ??= _notYetStoppedAt;
            }
            _notYetStoppedAt = pollAt;
            if (_stopped.Count > before || _pending.Count == 0) break;
            if (elapsed >= StopDeadline)
            {
                foreach (var tid in _pending) _lagging.Add(tid);
                _pending.Clear();
                _laggardsPolledAt = pollAt;
                break;
            }
            // Sleep, don't spin: on a small machine the threads we wait for need the CPU to reach their stop. A thread
            // on a CPU stops within tens of microseconds; one that must first wait for a CPU can take milliseconds,
            // and is then polled less often (nothing is held meanwhile: what stopped was let go).
            beforeSleep?.Invoke();
            Native.USleep((uint)_sleepUs);
            _sleepUs = Math.Min(2 * _sleepUs, LastPollSleepUs);
        }
        return _stopped.Count - before;
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

    /// <summary>Threads asked to stop by an earlier snapshot that had not stopped when it ended.</summary>
    public bool HasLaggards => _lagging.Count > 0;

    /// <summary>
    /// Detaches laggards from an earlier snapshot that have stopped since; forgets those that are gone. Each was held at
    /// most since the previous poll: that much is added to <see cref="TakeLaggardsHeld"/>.
    /// </summary>
    public void ReleaseLaggards()
    {
        if (_lagging.Count == 0) return;
        var now = Stopwatch.GetTimestamp();
        var checkProc = Stopwatch.GetElapsedTime(_laggardsProcCheckedAt, now) >= LaggardProcCheckInterval;
        if (checkProc) _laggardsProcCheckedAt = now;
        foreach (var tid in _lagging.ToArray())
        {
            var outcome = Poll(tid, checkProc, out var signal);
            if (outcome == StopOutcome.Waiting) continue;
            if (outcome == StopOutcome.Stopped)
            {
                Native.Ptrace(Native.PTRACE_DETACH, tid, 0, signal);
                _laggardsHeld += Stopwatch.GetElapsedTime(_laggardsPolledAt, now);
            }
            _lagging.Remove(tid);
        }
        _laggardsPolledAt = now;
    }

    /// <summary>How long laggards were held in their stops before they were let go, since the last call.</summary>
    public TimeSpan TakeLaggardsHeld()
    {
        var held = _laggardsHeld;
        _laggardsHeld = TimeSpan.Zero;
        return held;
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

    /// <summary>
    /// Lets go of the threads held now, and adds how long they were held (from the first of them to stop to now) to the
    /// snapshot's pause. The first stop is taken at the poll before the one that saw it (it happened in between): a thread
    /// that had to wait for a CPU before it could enter its stop was not held while it waited, though it was asked earlier.
    /// </summary>
    public void ReleaseStopped()
    {
        foreach (var thread in _stopped)
            if (Native.Ptrace(Native.PTRACE_DETACH, thread.Tid, 0, thread.PendingSignal) != 0
                && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Native.ESRCH)
                // Killed while held (another thread's exec kills every other thread; a SIGKILL): still Snapper's tracee
                // until Snapper reaps it, and an exec waits for that. Reaped with the laggards (see ReleaseLaggards).
                _lagging.Add(thread.Tid);
        var now = Stopwatch.GetTimestamp();
        var held = _firstStopAt is { } stoppedAt ? Stopwatch.GetElapsedTime(stoppedAt, now) : TimeSpan.Zero;
        _firstStopAt = null;
        // A thread that entered its stop while these were held was held no longer than they were: the pause counts that
        // time once (the share of time any thread is held).
        _notYetStoppedAt = Math.Max(_notYetStoppedAt, now);
        _stopped.Clear();
        _indexByTid.Clear();
        _held += held;
    }

    /// <summary>
    /// Lets go of every thread held now, and returns this snapshot's pause: the holds of its threads, one group after
    /// another (a group is let go before the next is waited for, so they do not overlap).
    /// </summary>
    public TimeSpan ResumeAll()
    {
        ReleaseStopped();
        var pause = _held;
        _held = TimeSpan.Zero;
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
