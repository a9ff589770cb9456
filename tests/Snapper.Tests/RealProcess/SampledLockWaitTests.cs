using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// A sampled capture keeps, with every sample of a thread blocked entering a lock, the lock and the thread that held it at
/// that snapshot (<c>snapper sample</c> on the "locks-moving" target: the "locks" target's named holders and waiters of
/// two Monitors and two System.Threading.Locks, three threads taking a Monitor in turns, and a heap compacted every half
/// second, which moves the lock objects while their waiters wait).
/// </summary>
public sealed class SampledLockWaitTests
{
    static readonly Dictionary<string, (LockKind Kind, string Type, string Holder)> Static = new()
    {
        ["Orders waiter 1"] = (LockKind.Monitor, "Snapper.TestTarget.OrdersLedger", "Orders holder"),
        ["Orders waiter 3"] = (LockKind.Monitor, "Snapper.TestTarget.OrdersLedger", "Orders holder"),
        ["Stock waiter 1"] = (LockKind.Monitor, "Snapper.TestTarget.StockLedger", "Stock holder"),
        ["Payments waiter 2"] = (LockKind.Lock, "System.Threading.Lock", "Payments holder"),
        ["Shipping waiter 1"] = (LockKind.Lock, "System.Threading.Lock", "Shipping holder"),
        ["Chain holder"] = (LockKind.Lock, "System.Threading.Lock", "Shipping holder"),
        ["Chain waiter 1"] = (LockKind.Monitor, "Snapper.TestTarget.OrdersLedger", "Chain holder"),
    };

    [Fact]
    public void Every_waiting_sample_names_the_lock_and_the_thread_that_held_it_then()
    {
        using var target = RunningTarget.StartTestTarget("locks-moving");
        using var dir = new TempDirectory();
        var db = dir.File("locks.db");

        var info = SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--count", "300", "--rate", "100", "--db", db, "--no-report");
        var result = SnapperCli.Run(info);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(target.AnyThreadStopped(), "a thread was left stopped");
        var profile = ProfileQueries.LoadLatest(db);
        var threadName = profile.Threads.ToDictionary(t => t.Id, t => t.Name ?? "");
        var locks = profile.Locks.ToDictionary(l => l.Id);
        var samples = profile.Samples.Where(s => s.Wall > 0).ToDictionary(s => (s.Sequence, s.ThreadId));
        var waitsOf = profile.LockWaits.GroupBy(w => threadName[w.ThreadId]).ToDictionary(g => g.Key, g => g.ToList());

        // Each queued thread waits in every snapshot, always on the same lock, held by the same thread: compactions moved
        // the objects meanwhile, and a moved lock is still the one lock. A read that falls inside a compaction can miss
        // (the object half moved): at most two such snapshots, and never a wrong holder.
        foreach (var (waiter, (kind, type, holder)) in Static)
        {
            var thread = profile.Threads.Single(t => t.Name == waiter).Id;
            var seen = profile.Samples.Count(s => s.ThreadId == thread && s.Wall > 0);
            Assert.True(waitsOf.TryGetValue(waiter, out var waits), $"{waiter}: no lock wait stored");
            var only = Assert.Single(waits.Select(w => w.LockId).Distinct());
            Assert.Equal((kind, type), (locks[only].Kind, locks[only].TypeName));
            var owners = waits.Select(w => w.OwnerThreadId is { } owner ? threadName[owner] : "(none)").ToList();
            Assert.All(owners, owner => Assert.Contains(owner, new[] { holder, "(none)" }));
            Assert.True(owners.Count(owner => owner == holder) >= seen - 2, $"{waiter}: {owners.Count(owner => owner == holder)} of {seen} samples named {holder}");
            Assert.All(waits, w => Assert.True(samples.ContainsKey((w.Sequence, thread)), $"{waiter}: a wait with no sample"));
        }
        // Orders waiters share one lock; the two Locks are told apart.
        Assert.Equal(waitsOf["Orders waiter 1"][0].LockId, waitsOf["Orders waiter 3"][0].LockId);
        Assert.NotEqual(waitsOf["Payments waiter 2"][0].LockId, waitsOf["Shipping waiter 1"][0].LockId);
        // Holders wait for nothing.
        foreach (var holder in new[] { "Orders holder", "Stock holder", "Payments holder", "Shipping holder" })
            Assert.False(waitsOf.ContainsKey(holder), holder);

        // The rotation: its waiters name one of the three, never themselves, and the holder named is not waiting for it in
        // that snapshot; the holder changes during the capture.
        var rotation = profile.LockWaits.Where(w => threadName[w.ThreadId].StartsWith("Rotation ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(rotation);
        var rotationLock = Assert.Single(rotation.Select(w => w.LockId).Distinct());
        Assert.Equal("Snapper.TestTarget.RotationLedger", locks[rotationLock].TypeName);
        var named = rotation.Where(w => w.OwnerThreadId is not null).ToList();
        Assert.True(named.Count >= rotation.Count * 9 / 10, $"{named.Count} of {rotation.Count} rotation waits named a holder");
        Assert.All(named, w => Assert.NotEqual(w.ThreadId, w.OwnerThreadId));
        Assert.All(named, w => Assert.StartsWith("Rotation ", threadName[w.OwnerThreadId!.Value]));
        Assert.True(named.Select(w => w.OwnerThreadId).Distinct().Count() >= 2, "the rotation's holder never changed");
        var holderAlsoWaiting = named.Count(w => rotation.Any(o => o.Sequence == w.Sequence && o.ThreadId == w.OwnerThreadId));
        Assert.True(holderAlsoWaiting <= named.Count / 20, $"{holderAlsoWaiting} of {named.Count} waits named a holder that waited itself");
        // Six locks in all: two Orders/Chain Monitors of one type, Stock, two Locks, the rotation.
        Assert.Equal(6, profile.Locks.Count);
    }
}
