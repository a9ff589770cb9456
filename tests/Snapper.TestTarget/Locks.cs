namespace Snapper.TestTarget;

/// <summary>
/// Threads queued on locks whose holders are known: two Monitors (on an <see cref="OrdersLedger"/> and a
/// <see cref="StockLedger"/>), each held by its own named thread while named waiters queue on it, and two
/// System.Threading.Locks held and queued on the same way. A waiter must be linked to the holder of the lock it waits
/// for, not to some holder: with two of each kind, a link to the wrong one shows. One thread holds a Monitor and waits
/// for a Lock (a chain). Holders hold until the process ends.
/// </summary>
static class Locks
{
    static readonly OrdersLedger Orders = new();
    static readonly StockLedger Stock = new();
    static readonly Lock Payments = new();
    static readonly Lock Shipping = new();

    public static void Start()
    {
        Held("Orders holder", held => LockHolders.HoldMonitor(Orders, held));
        Held("Stock holder", held => LockHolders.HoldMonitor(Stock, held));
        Held("Payments holder", held => LockHolders.HoldLock(Payments, held));
        Held("Shipping holder", held => LockHolders.HoldLock(Shipping, held));
        for (var i = 1; i <= 3; i++) Waiting($"Orders waiter {i}", () => LockWaiters.EnterMonitor(Orders));
        Waiting("Stock waiter 1", () => LockWaiters.EnterMonitor(Stock));
        for (var i = 1; i <= 3; i++) Waiting($"Payments waiter {i}", () => LockWaiters.EnterLock(Payments));
        Waiting("Shipping waiter 1", () => LockWaiters.EnterLock(Shipping));
        // Holds a Monitor of its own, then queues on Shipping: its own lock's waiter must find Chain holder.
        var chainLock = new OrdersLedger();
        Held("Chain holder", held => LockHolders.HoldMonitorThenEnter(chainLock, Shipping, held));
        Waiting("Chain waiter 1", () => LockWaiters.EnterMonitor(chainLock));
        Thread.Sleep(300); // let every waiter reach its wait (the runtime spins a little before it blocks)
    }

    static readonly RotationLedger Rotation = new();

    /// <summary>
    /// Three named threads take a Monitor in turns, each holding it 150 ms while the others queue: the holder a waiter
    /// names changes from snapshot to snapshot, and each waiter enters its wait again and again.
    /// </summary>
    public static void StartRotation()
    {
        for (var i = 1; i <= 3; i++)
            new Thread(() =>
            {
                while (true) LockHolders.HoldMonitorFor(Rotation, TimeSpan.FromMilliseconds(150));
            }) { Name = $"Rotation {i}", IsBackground = true }.Start();
    }

    /// <summary>
    /// Compacts the heap every half second: the lock objects, allocated at start, are moved (promoted and compacted), so a
    /// waiter's reference to its lock changes while it waits.
    /// </summary>
    public static void CompactTheHeapForever()
    {
        while (true)
        {
            Thread.Sleep(500);
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
    }

    /// <summary>Starts a thread and returns once it holds its lock.</summary>
    static void Held(string name, Action<Action> hold)
    {
        using var holding = new ManualResetEventSlim();
        new Thread(() => hold(holding.Set)) { Name = name, IsBackground = true }.Start();
        holding.Wait();
    }

    static void Waiting(string name, Action enter) => new Thread(() => enter()) { Name = name, IsBackground = true }.Start();
}

sealed class OrdersLedger;

sealed class StockLedger;

sealed class RotationLedger;

static class LockHolders
{
    public static void HoldMonitor(object ledger, Action held)
    {
        lock (ledger)
        {
            held();
            Thread.Sleep(Timeout.Infinite);
        }
    }

    public static void HoldLock(Lock gate, Action held)
    {
        lock (gate)
        {
            held();
            Thread.Sleep(Timeout.Infinite);
        }
    }

    public static void HoldMonitorFor(object ledger, TimeSpan time)
    {
        lock (ledger) Thread.Sleep(time);
    }

    public static void HoldMonitorThenEnter(object ledger, Lock next, Action held)
    {
        lock (ledger)
        {
            held();
            Thread.Sleep(100); // the holders of the other locks hold them by now
            LockWaiters.EnterLock(next);
        }
    }
}

static class LockWaiters
{
    public static void EnterMonitor(object ledger)
    {
        lock (ledger) Console.WriteLine("entered a Monitor held forever");
    }

    public static void EnterLock(Lock gate)
    {
        lock (gate) Console.WriteLine("entered a Lock held forever");
    }
}
