namespace Snapper.Sampling.Linux;

/// <summary>
/// What the kernel says about each of the target's threads at the start of a snapshot, read without stopping any:
/// which threads exist, how long each has been on a CPU, and whether it runs or is blocked (and where).
/// <see cref="Open"/> picks the cheapest way this machine allows.
/// </summary>
interface IThreadSurvey : IDisposable
{
    /// <summary>Takes a survey. The thread ids; the same array instance while the set is unchanged; empty when the process is gone.</summary>
    int[] Take();

    /// <summary>Nanoseconds on a CPU, or null when unknown (the thread is gone).</summary>
    ulong? RunTime(int tid);

    /// <summary>Running or blocked, as of this survey (or of this call, for a survey that reads per thread).</summary>
    ThreadActivity Activity(int tid);

    /// <summary>True when <see cref="Activity"/> costs nothing more: it came with the survey.</summary>
    bool ActivityIsFree { get; }

    /// <summary>A thread of the last survey turned out to be gone: look afresh next time.</summary>
    void Invalidate();

    /// <summary>Forgets threads that are gone.</summary>
    void Retain(HashSet<int> live);

    /// <summary>
    /// A BPF task iterator where the kernel allows it (see <see cref="TaskIterator"/>), else /proc. SNAPPER_THREAD_SURVEY=proc
    /// forces /proc: for comparing the two and as a way out should the iterator misbehave on some kernel.
    /// </summary>
    static IThreadSurvey Open(int pid)
    {
        if (Environment.GetEnvironmentVariable("SNAPPER_THREAD_SURVEY") != "proc")
        {
            var debug = Environment.GetEnvironmentVariable("SNAPPER_DEBUG") is { Length: > 0 };
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var iterator = TaskIterator.TryOpen(pid, out var whyNot);
            if (debug)
                Console.Error.WriteLine(iterator is null
                    ? $"threads are read from /proc: no BPF task iterator ({whyNot})"
                    : $"threads are read by a BPF task iterator (set up in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.0} ms)");
            if (iterator is not null) return new BpfThreadSurvey(pid, iterator);
        }
        return new ProcThreadSurvey(pid);
    }
}
