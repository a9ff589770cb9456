namespace Snapper.Sampling;

/// <summary>What the sampler keeps per thread id is dropped for threads that are gone, the same way everywhere.</summary>
static class PerThread
{
    /// <summary>Removes the entries of threads not in <paramref name="live"/>.</summary>
    public static void KeepOnly<T>(this Dictionary<int, T> byThread, HashSet<int> live)
    {
        foreach (var tid in byThread.Keys.Where(t => !live.Contains(t)).ToList()) byThread.Remove(tid);
    }
}
