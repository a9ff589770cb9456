using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Snapper.TestTarget;

/// <summary>
/// Everything that makes a target hard to sample: thread churn, GC churn, exceptions thrown constantly, children
/// exiting (SIGCHLD), signals arriving while stopped. It counts a real-time signal (SIGRTMIN+2), because real-time
/// signals queue: each one sent must arrive exactly once, so any loss or duplication is the sampler's. It counts
/// SIGUSR1 too, which a sender can make exact by waiting for each one to be counted before sending the next
/// (standard signals pending at once merge into one, by design). Each stdin line is answered with the counters.
/// </summary>
static class Stress
{
    /// <summary>SIGRTMIN+2 with glibc (which keeps 32 and 33 for itself).</summary>
    public const int RealTimeSignal = 36;
    const int SIGUSR1 = 10;

    static long _signals, _usr1, _threadsStarted, _exceptions, _children, _childrenLost;
    static readonly List<PosixSignalRegistration> Registrations = [];

    public static void Start()
    {
        Registrations.Add(PosixSignalRegistration.Create((PosixSignal)RealTimeSignal, Count(() => Interlocked.Increment(ref _signals))));
        Registrations.Add(PosixSignalRegistration.Create((PosixSignal)SIGUSR1, Count(() => Interlocked.Increment(ref _usr1))));
        new Thread(Churn) { Name = "Churner", IsBackground = true }.Start();
        new Thread(Allocate) { Name = "Allocator", IsBackground = true }.Start();
        new Thread(Throw) { Name = "Thrower", IsBackground = true }.Start();
        new Thread(Spawn) { Name = "Spawner", IsBackground = true }.Start();
    }

    static Action<PosixSignalContext> Count(Action count) => context =>
    {
        count();
        context.Cancel = true;
    };

    public static void AnswerQueries()
    {
        while (Console.ReadLine() is not null)
        {
            Console.WriteLine($"SIGNALS {Interlocked.Read(ref _signals)} THREADS {Interlocked.Read(ref _threadsStarted)} GCS {GC.CollectionCount(0)}"
                + $" USR1 {Interlocked.Read(ref _usr1)} EXCEPTIONS {Interlocked.Read(ref _exceptions)}"
                + $" CHILDREN {Interlocked.Read(ref _children)} CHILDREN_LOST {Interlocked.Read(ref _childrenLost)}");
            Console.Out.Flush();
        }
        GC.KeepAlive(Registrations);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Throw()
    {
        while (true)
        {
            try
            {
                Fail(Interlocked.Read(ref _exceptions));
            }
            catch (InvalidOperationException)
            {
                Interlocked.Increment(ref _exceptions);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Fail(long n) => throw new InvalidOperationException($"exception {n}");

    /// <summary>Child processes that exit at once: each exit is a SIGCHLD, which the runtime needs to notice the exit.
    /// A child whose exit goes unnoticed for five seconds counts as lost.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Spawn()
    {
        while (true)
        {
            using var child = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
            if (child.WaitForExit(5_000)) Interlocked.Increment(ref _children);
            else Interlocked.Increment(ref _childrenLost);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Churn()
    {
        while (true)
        {
            var threads = new Thread[8];
            for (var i = 0; i < threads.Length; i++)
            {
                threads[i] = new Thread(ShortLived) { Name = $"Short-{i}", IsBackground = true };
                threads[i].Start();
                Interlocked.Increment(ref _threadsStarted);
            }
            foreach (var thread in threads) thread.Join();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ShortLived()
    {
        var x = 0.0;
        for (var i = 0; i < 20_000; i++) x += Math.Sqrt(i);
        GC.KeepAlive(x);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Allocate()
    {
        var keep = new object[1024];
        var n = 0;
        while (true)
        {
            keep[n++ % keep.Length] = new byte[n % 8192];
            if (n % 100_000 == 0) GC.Collect();
        }
    }
}
