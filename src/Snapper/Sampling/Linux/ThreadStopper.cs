using System.Diagnostics;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Stops a set of threads of one process with PTRACE_SEIZE + PTRACE_INTERRUPT and lets them go with PTRACE_DETACH.
/// ptrace is per tracer thread, so every call on one instance must come from the same OS thread.
/// A signal that arrives while a thread is being stopped is caught by the stop; it is handed back on detach
/// so the target never loses one.
/// </summary>
sealed unsafe class ThreadStopper
{
    readonly int _pid;
    readonly List<StoppedThread> _stopped = new();
    readonly Dictionary<int, int> _indexByTid = new();
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
        LastSeizeErrno = 0;
        _firstStopTicks = Stopwatch.GetTimestamp();
        Span<int> seized = tids.Length <= 1024 ? stackalloc int[tids.Length] : new int[tids.Length];
        var count = 0;
        // Seize and interrupt all first, then wait: the threads stop in parallel, not one after another.
        foreach (var tid in tids)
        {
            if (Native.Ptrace(Native.PTRACE_SEIZE, tid, 0, 0) != 0)
            {
                var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno != Native.ESRCH) LastSeizeErrno = errno;
                continue;
            }
            Native.Ptrace(Native.PTRACE_INTERRUPT, tid, 0, 0);
            seized[count++] = tid;
        }
        foreach (var tid in seized[..count])
        {
            if (!WaitForStop(tid, out var pendingSignal)) continue;
            Native.UserRegs regs;
            var haveRegs = Native.Ptrace(Native.PTRACE_GETREGS, tid, 0, (nint)(&regs)) == 0;
            _indexByTid[tid] = _stopped.Count;
            _stopped.Add(new StoppedThread(tid, haveRegs, regs, pendingSignal));
        }
        return _stopped.Count;
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

    /// <summary>
    /// Waits for the thread's ptrace stop. False when it exited instead (nothing to detach then).
    /// A signal-delivery stop means a signal reached the thread first: keep it to re-inject on detach.
    /// </summary>
    static bool WaitForStop(int tid, out int pendingSignal)
    {
        pendingSignal = 0;
        while (true)
        {
            int status;
            var result = Native.WaitPid(tid, &status, Native.WALL);
            if (result == -1)
            {
                if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Native.EINTR) continue;
                return false;
            }
            if (!Native.WifStopped(status)) return false; // exited or killed
            var signal = Native.WStopSig(status);
            if (Native.PtraceEvent(status) == Native.PTRACE_EVENT_STOP)
                return true; // our interrupt, or a group stop (the thread stays stopped after detach, as it should)
            // A signal-delivery stop: the thread is stopped now; its signal goes back on detach.
            pendingSignal = signal;
            return true;
        }
    }
}

/// <summary>A thread held stopped, with its registers read at the stop.</summary>
readonly record struct StoppedThread(int Tid, bool HaveRegisters, Native.UserRegs Registers, int PendingSignal);
