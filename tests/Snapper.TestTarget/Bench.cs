using System.Runtime.CompilerServices;

namespace Snapper.TestTarget;

/// <summary>The benchmark's target: counted CPU work on some threads, blocked threads at varying depths on others.</summary>
static class Bench
{
    static readonly object Gate = new();
    static long[] _work = [];

    public static void Start(int spinning, int blocked)
    {
        // One counter per cache line: the threads must not slow each other down through false sharing.
        _work = new long[spinning * 8];
        using var started = new CountdownEvent(spinning + blocked);
        for (var i = 0; i < spinning; i++)
        {
            var slot = i * 8;
            Run($"Worker-{i}", started, () => Work(slot));
        }
        for (var i = 0; i < blocked; i++)
        {
            var depth = 1 + i % 10;
            var sleep = i % 2 == 0;
            Run($"Blocked-{i}", started, () => Descend(depth, sleep));
        }
        started.Wait();
    }

    public static void AnswerQueries()
    {
        while (Console.ReadLine() is not null)
        {
            long total = 0;
            for (var i = 0; i < _work.Length; i += 8) total += Volatile.Read(ref _work[i]);
            Console.WriteLine($"WORK {total}");
            Console.Out.Flush();
        }
    }

    static void Run(string name, CountdownEvent started, Action body) =>
        new Thread(() => { started.Signal(); body(); }) { Name = name, IsBackground = true }.Start();

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Work(int slot)
    {
        while (true)
        {
            Unit();
            Volatile.Write(ref _work[slot], _work[slot] + 1);
        }
    }

    /// <summary>About 10 microseconds of arithmetic: fine-grained enough to measure a few percent of lost throughput.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static double Unit()
    {
        var x = 1.0;
        for (var i = 0; i < 4_000; i++) x = Math.Sqrt(x + i);
        return x;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Descend(int depth, bool sleep)
    {
        if (depth > 0)
        {
            Descend(depth - 1, sleep);
            return;
        }
        if (sleep)
            while (true) Thread.Sleep(Timeout.Infinite);
        lock (Gate) Monitor.Wait(Gate);
    }
}
