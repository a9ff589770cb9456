namespace Snapper.Sampling;

/// <summary>
/// Gives memory Snapper no longer uses back to the system, now and then, between two snapshots. A capture allocates
/// steadily (ClrMD rebuilds its objects at every flush of the DAC's caches, each walk its frames) and most of it dies
/// young; but what lives through a snapshot or a read of the thread names is promoted and then waits in the oldest
/// generation for a full collection, which the GC starts rarely on a heap this small. On ShopService under load at
/// 100 Hz the GC had 43-45 MB committed for 20 MB of live objects, RssAnon 62 MB and rising by steps (issue 20). One
/// aggressive collection (compacts, and decommits what it freed) every <see cref="Every"/> costs a few milliseconds of
/// CPU. It runs on the sampling thread while no thread of the target is held, so it can never lengthen a pause: a GC
/// suspends every managed thread of Snapper, the sampler too.
/// </summary>
public sealed class FootprintKeeper(TimeProvider time)
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(30);

    /// <summary>The collection is not started with less than this left before the next snapshot is due.</summary>
    public static readonly TimeSpan NeedsAtLeast = TimeSpan.FromMilliseconds(5);

    long _last = time.GetTimestamp();

    /// <summary>Collects when due and the next snapshot is at least <see cref="NeedsAtLeast"/> away; true when it did.</summary>
    public bool CollectIfDue(TimeSpan untilNextSnapshot)
    {
        if (untilNextSnapshot < NeedsAtLeast || time.GetElapsedTime(_last) < Every) return false;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        _last = time.GetTimestamp();
        return true;
    }
}
