namespace Snapper.Store;

/// <summary>
/// Several sessions seen as one: their snapshots on one time line (offsets from the first session's start, so the
/// gaps between captures stay visible), their threads merged by name (a thread is the same "Orders worker" in every
/// capture, whatever its OS id), and one session record that sums them up.
/// </summary>
static class SessionAggregate
{
    public static SessionInfo Summary(IReadOnlyList<SessionInfo> sessions, IReadOnlyList<Snapshot> snapshots, long samples)
    {
        var first = sessions[0];
        var last = sessions[^1];
        var pids = sessions.Select(s => s.Target.Pid).Distinct().Count();
        var target = last.Target with
        {
            Pid = pids == 1 ? last.Target.Pid : 0,
            ProcessName = sessions.Select(s => s.Target.ProcessName).Distinct().Count() == 1 ? last.Target.ProcessName
                : string.Join(", ", sessions.Select(s => s.Target.ProcessName).Distinct()),
        };
        // The rate while sampling, not over the whole window with its gaps.
        var rate = sessions.Sum(s => s.SnapshotCount) > 0
            ? sessions.Sum(s => s.AchievedRate * s.SnapshotCount) / sessions.Sum(s => s.SnapshotCount)
            : 0;
        return new SessionInfo(last.Id, target, first.StartedUtc, sessions.Max(s => s.EndedUtc), last.EndReason, last.EndMessage,
            snapshots.Count, sessions.Sum(s => s.LateCount), sessions.Sum(s => s.FailedCount),
            samples, rate, PauseStats.From(snapshots.Select(s => s.PauseUs).ToList()), Focus(sessions))
        {
            InternalErrors = SessionErrors.Merge(sessions),
        };
    }

    /// <summary>The focus of captures that all had the same one, their counts summed; none when any differs or had none.</summary>
    static FocusCounts? Focus(IReadOnlyList<SessionInfo> sessions)
    {
        if (sessions.Any(s => s.Focus is null) || sessions.Select(s => s.Focus!.Pattern).Distinct().Count() != 1) return null;
        return new FocusCounts(sessions[0].Focus!.Pattern, sessions.Sum(s => s.Focus!.Seen), sessions.Sum(s => s.Focus!.Kept));
    }

    /// <summary>One thread per display name; <paramref name="mapping"/> takes each stored thread id to its merged one.</summary>
    public static List<ThreadInfo> MergeThreads(IEnumerable<ThreadInfo> threads, Dictionary<int, int> mapping)
    {
        var merged = new Dictionary<string, ThreadInfo>(StringComparer.Ordinal);
        foreach (var thread in threads)
        {
            if (!merged.TryGetValue(thread.DisplayName, out var into))
                merged[thread.DisplayName] = into = new ThreadInfo(thread.Id, 0, thread.ManagedThreadId, thread.DisplayName, thread.OsName, thread.Role);
            mapping[thread.Id] = into.Id;
        }
        return merged.Values.ToList();
    }
}
