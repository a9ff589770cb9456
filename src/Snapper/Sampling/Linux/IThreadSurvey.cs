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

    /// <summary>
    /// The user registers of a thread that was not on a CPU at this survey, as it will resume with them (false when on a
    /// CPU, gone, or unknown to this kind of survey).
    /// </summary>
    bool TryRegisters(int tid, out Native.UserRegs registers);

    /// <summary>
    /// True when <see cref="Take"/> reads every thread in one pass, cheaply enough to repeat while threads are held
    /// (see ClrMd.MovedSinceSurvey); false when each thread is read on its own (/proc: two files a thread).
    /// </summary>
    bool SurveysAtOnce { get; }

    /// <summary>A thread of the last survey turned out to be gone: look afresh next time.</summary>
    void Invalidate();

    /// <summary>Forgets threads that are gone.</summary>
    void Retain(HashSet<int> live);

    /// <summary>
    /// A BPF program where the kernel allows it (see <see cref="ITaskReader.Open"/>), else /proc. SNAPPER_THREAD_SURVEY=proc
    /// forces /proc, and =iterator the older BPF task iterator: for comparing them, and as a way out should one
    /// misbehave on some kernel.
    /// </summary>
    static IThreadSurvey Open(int pid)
    {
        var forced = Environment.GetEnvironmentVariable("SNAPPER_THREAD_SURVEY");
        if (forced != "proc")
        {
            var debug = DebugSwitch.Enabled;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var reader = ITaskReader.Open(pid, iteratorOnly: forced == "iterator", out var whyNot);
            if (debug)
                Console.Error.WriteLine(reader is null
                    ? $"threads are read from /proc: {whyNot}"
                    : $"threads are read by {reader.Description} (set up in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.0} ms)");
            if (reader is not null) return new BpfThreadSurvey(pid, reader);
        }
        return new ProcThreadSurvey(pid);
    }
}
