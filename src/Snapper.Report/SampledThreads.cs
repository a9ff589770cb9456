using Snapper.Store;

namespace Snapper.Report;

/// <summary>The threads every report and export names, one rule for all of them.</summary>
static class SampledThreads
{
    /// <summary>
    /// The profile's threads by id. A sample naming a thread the profile lacks (never written by the store, but a
    /// damaged file can) still counts, under a name that says so.
    /// </summary>
    public static Dictionary<int, ThreadInfo> Table(Profile profile, IEnumerable<int> sampledThreadIds)
    {
        var threads = new Dictionary<int, ThreadInfo>();
        foreach (var thread in profile.Threads) threads[thread.Id] = thread;
        foreach (var id in sampledThreadIds)
            if (!threads.ContainsKey(id)) threads[id] = new ThreadInfo(id, 0, 0, $"unknown thread #{id}");
        return threads;
    }
}
