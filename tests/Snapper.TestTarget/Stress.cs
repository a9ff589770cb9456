using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Snapper.TestTarget;

/// <summary>
/// Everything that makes a target hard to sample: thread churn, GC churn, signals arriving while stopped. It counts
/// a real-time signal (SIGRTMIN+2), because real-time signals queue: each one sent must arrive exactly once, so any
/// loss or duplication is the sampler's. (Standard signals sent while a process is paused merge into one, by design.)
/// </summary>
static class Stress
{
    /// <summary>SIGRTMIN+2 with glibc (which keeps 32 and 33 for itself).</summary>
    public const int RealTimeSignal = 36;

    static long _signals, _threadsStarted;
    static PosixSignalRegistration? _registration;

    public static void Start()
    {
        _registration = PosixSignalRegistration.Create((PosixSignal)RealTimeSignal, context =>
        {
            Interlocked.Increment(ref _signals);
            context.Cancel = true;
        });
        new Thread(Churn) { Name = "Churner", IsBackground = true }.Start();
        new Thread(Allocate) { Name = "Allocator", IsBackground = true }.Start();
    }

    public static void AnswerQueries()
    {
        while (Console.ReadLine() is not null)
        {
            Console.WriteLine($"SIGNALS {Interlocked.Read(ref _signals)} THREADS {Interlocked.Read(ref _threadsStarted)} GCS {GC.CollectionCount(0)}");
            Console.Out.Flush();
        }
        GC.KeepAlive(_registration);
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
