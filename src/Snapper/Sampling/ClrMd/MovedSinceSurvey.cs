using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Keeps a snapshot one moment for every thread. The threads that are stopped are read at their stops, a little after
/// the survey; the threads left running (asleep where they were, or waiting for a CPU) are taken as the survey saw
/// them. A thread asleep at the survey that wakes before the stops are complete was then counted asleep while the
/// running ones were counted where they had got to: a thread going back to sleep in that gap was seen asleep, one
/// waking in it was seen asleep too, and a 1 ms burst of work was found in 11% fewer snapshots than it ran in. So just
/// before the stops are asked for, the threads are surveyed again, and any thread left running that is no longer
/// exactly as it was (run time, state, registers, switch count) is stopped and walked too: every thread is then read
/// as of the stops. Surveying again once the stops were complete counted bursts 0.4 points too often instead: a thread
/// held in a burst cannot end it, while the others could still begin theirs; and even right after the stops are asked,
/// the CPUs they free let woken threads begin bursts (1.1 points too often, with threads taken without a stop). Only
/// with a survey that reads every thread in one pass (BPF): from /proc it would cost two file reads a thread.
/// </summary>
sealed class MovedSinceSurvey
{
    readonly Dictionary<int, (ulong? RunTime, ThreadActivity Activity, long CpuNs)> _atSurvey = new();
    readonly HashSet<int> _moved = new();
    readonly HashSet<int> _unchecked = new(); // noted since the last check

    /// <summary>The threads found moved by the last <see cref="Check"/>.</summary>
    public IReadOnlySet<int> Moved => _moved;

    public void Clear()
    {
        _atSurvey.Clear();
        _moved.Clear();
        _unchecked.Clear();
    }

    /// <summary>Notes a thread the snapshot takes without stopping it, as the survey saw it.</summary>
    public void Note(int tid, ulong? runTime, ThreadActivity activity, long cpuNs)
    {
        _atSurvey[tid] = (runTime, activity, cpuNs);
        _unchecked.Add(tid);
    }

    /// <summary>No longer checks a thread: it is stopped anyway.</summary>
    public void Forget(int tid) => _unchecked.Remove(tid);

    /// <summary>
    /// Surveys again and fills <see cref="Moved"/> with the threads noted since the last check that have run or changed
    /// state since they were noted. A thread gone meanwhile has not moved: its last stack stands.
    /// </summary>
    public void Check(IThreadSurvey survey)
    {
        _moved.Clear();
        if (survey.Take().Length == 0) return; // the process is gone: the stops will say so
        foreach (var tid in _unchecked)
        {
            var then = _atSurvey[tid];
            var now = survey.Activity(tid);
            if (now.Gone || (now == then.Activity && survey.RunTime(tid) == then.RunTime)) continue;
            _moved.Add(tid);
        }
        _unchecked.Clear();
    }

    /// <summary>What the first survey saw of a moved thread: its CPU since the last sample and its activity.</summary>
    public (long CpuNs, ThreadActivity Activity) AtSurvey(int tid) => (_atSurvey[tid].CpuNs, _atSurvey[tid].Activity);
}
