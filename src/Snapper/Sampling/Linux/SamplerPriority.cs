namespace Snapper.Sampling.Linux;

/// <summary>
/// Raises the scheduling priority of the calling thread (the sampling thread). While it holds the target stopped,
/// every thread it resumes would otherwise preempt it on a busy machine, and the threads not yet resumed would
/// wait: measured on 2 vCPUs with 4 spinning target threads, resuming 21 threads took 3.5-4.4 ms instead of well
/// under one. The thread sleeps between samples, so the raised priority costs other processes nothing then.
/// Needs root or CAP_SYS_NICE; without it the capture runs unchanged.
/// <para>
/// From its first stop of the target to the end of the capture, the thread also runs as a real-time thread
/// (SCHED_FIFO, the lowest real-time priority). A raised nice value is not enough while it holds threads stopped:
/// right after start-up, having just used a lot of CPU (loading the DAC, compiling), the sampler is not let to preempt
/// the target's running threads and waits for the next scheduler tick, 4 ms, while the target's other threads stay
/// stopped; the first samples' pauses were 4-13 ms instead of 0.2. It stays real-time between samples: switching
/// there and back cost two system calls a sample, and at nice -15 the sampler already takes nearly all of a CPU it
/// shares with a busy thread of the target, so the work it does after a resume (naming, now and then reading thread
/// names from the heap) weighs on the target the same either way. Start-up (before the first stop) stays at normal
/// priority: it is long, and would otherwise shut the target out of a CPU for its whole length. The kernel's real-time
/// throttling (95% of each second at most) bounds what a runaway real-time thread could take.
/// </para>
/// </summary>
static unsafe class SamplerPriority
{
    const int Nice = -15;

    public static bool TryRaise() => Native.SetPriority(Native.PRIO_PROCESS, Native.GetTid(), Nice) == 0;

    /// <summary>Real-time scheduling for the calling thread; false without the privilege.</summary>
    public static bool TryEnterRealTime()
    {
        var priority = 1;
        return Native.SchedSetScheduler(0, Native.SCHED_FIFO, &priority) == 0;
    }

    /// <summary>Back to normal scheduling (the nice value set by <see cref="TryRaise"/> stays).</summary>
    public static void LeaveRealTime()
    {
        var priority = 0;
        Native.SchedSetScheduler(0, Native.SCHED_OTHER, &priority);
    }
}
