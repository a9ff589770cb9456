namespace Snapper.Sampling.Linux;

/// <summary>
/// Raises the scheduling priority of the calling thread (the sampling thread). While it holds the target stopped,
/// every thread it resumes would otherwise preempt it on a busy machine, and the threads not yet resumed would
/// wait: measured on 2 vCPUs with 4 spinning target threads, resuming 21 threads took 3.5-4.4 ms instead of well
/// under one. The thread sleeps between samples, so the raised priority costs other processes nothing then.
/// Needs root or CAP_SYS_NICE; without it the capture runs unchanged.
/// <para>
/// From its last wait for a sample's moment (PtraceStackSource.CaptureDueSoon) and while it holds the target stopped and
/// sleeps or walks (PtraceStackSource.HoldAsRealTime), the thread also runs as a real-time thread (SCHED_FIFO, the lowest real-time priority), and goes back to normal scheduling as soon as the
/// target runs again. A raised nice value is not enough then: right after start-up, having just used a lot of CPU (loading the DAC, compiling), the sampler is not let to
/// preempt the target's running threads and waits for the next scheduler tick, 4 ms, while the target's other threads
/// stay stopped; the first samples' pauses were 4-6 ms instead of 0.2. Staying real-time between samples saves two
/// system calls a sample but was measured worse: at 200 threads the pause p99 went from 1-5 ms to 15-19 ms and the CPU
/// per sample up by half (likely because the other threads of Snapper, the store's and the runtime's, then only get a
/// CPU the target's running threads also want). The kernel's real-time throttling (95% of each second at most) bounds what a runaway
/// real-time thread could take.
/// </para>
/// </summary>
static unsafe class SamplerPriority
{
    const int Nice = -15;

    public static bool TryRaise() => Native.SetPriority(Native.PRIO_PROCESS, Native.GetTid(), Nice) == 0;

    /// <summary>Real-time scheduling for the calling thread, while it holds the target; false without the privilege.</summary>
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
