namespace Snapper.TestTarget;

/// <summary>
/// The runtime internals Snapper reads, each in a known state before READY, for the tests that check Snapper's
/// assumptions about them (RuntimeAssumptionsTests, RuntimeObjectAssumptionsTests): the "locks" scenario's Monitors
/// (held, with sync blocks) and System.Threading.Locks; a Monitor held twice by one thread without contention (a thin
/// lock, recursion in its header); a Monitor held twice with a waiter (a sync block, recursion 2); a Monitor contended,
/// then free; a Monitor whose thread waits in Monitor.Wait (a sync block, the lock free, never contended); four threads
/// in a P/Invoke; a spinning thread; and one thread of each kind the runtime starts and names for itself
/// (<see cref="RuntimeThreads"/>).
/// </summary>
static class Internals
{
    public const int NativeSleepers = 4;

    public static readonly ThinLedger Thin = new();

    public static void Start()
    {
        Locks.Start();
        using var holding = new ManualResetEventSlim();
        new Thread(() => HoldTwice(holding.Set)) { Name = "Thin holder", IsBackground = true }.Start();
        holding.Wait();
        StartRecursiveHolder();
        ContendThenRelease();
        // Named beyond the 15 characters the OS keeps: only the managed name has it whole.
        new Thread(Waiter.Run) { Name = "Waiting on a Monitor, named at length", IsBackground = true }.Start();
        for (var i = 1; i <= NativeSleepers; i++) new Thread(NativeSleeper.Run) { Name = $"P/Invoke {i}", IsBackground = true }.Start();
        new Thread(Spinner.Spin) { Name = "Spinner", IsBackground = true }.Start();
        RuntimeThreads.Start();
    }

    /// <summary>Takes the thin lock twice (no other thread ever touches it, so it stays thin) and keeps it.</summary>
    static void HoldTwice(Action held)
    {
        lock (Thin)
        {
            lock (Thin)
            {
                held();
                Thread.Sleep(Timeout.Infinite);
            }
        }
    }

    public static readonly RecursiveLedger Recursive = new();
    public static readonly object Released = new();

    /// <summary>A Monitor held twice by one thread while another waits for it (a sync block whose recursion count is 2).</summary>
    static void StartRecursiveHolder()
    {
        using var holding = new ManualResetEventSlim();
        new Thread(() =>
        {
            lock (Recursive)
            {
                lock (Recursive)
                {
                    holding.Set();
                    Thread.Sleep(Timeout.Infinite);
                }
            }
        }) { Name = "Twice holder", IsBackground = true }.Start();
        holding.Wait();
        new Thread(() => LockWaiters.EnterMonitor(Recursive)) { Name = "Twice waiter", IsBackground = true }.Start();
    }

    /// <summary>A Monitor contended (so it has a sync block and a wait event), then let go by every thread: free.</summary>
    static void ContendThenRelease()
    {
        using var holding = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (Released)
            {
                holding.Set();
                Thread.Sleep(300); // the other thread reaches its wait meanwhile
            }
        });
        holder.Start();
        holding.Wait();
        var waiter = new Thread(() => { lock (Released) { } });
        waiter.Start();
        holder.Join();
        waiter.Join();
    }
}

sealed class ThinLedger;

sealed class RecursiveLedger;
