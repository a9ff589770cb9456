using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Snapper.TestTarget;

/// <summary>
/// Short bursts of work, as a request-serving service has them, each kind measuring its own share of wall time:
/// a dedicated thread that spins 3 ms every 50 ms, thread-pool work items of 1 ms queued every 20 ms, and a
/// System.Threading.Timer callback that spins 2 ms every 30 ms. A line "SHARES" on stdin is answered
/// "SHARES <dedicated> <pool> <timer>": each the percentage of wall time since the last "RESET" (or the start) spent
/// inside that kind's busy method, as a profiler's snapshots should find it. "HOLD" parks the dedicated thread after
/// its current burst (answered once it is parked), "RUN" lets it go on, and "CPU" is answered "CPU <tid> <ns>": its
/// OS thread id and the CPU time the kernel has counted for it (schedstat's run time), for checks of CPU accounting.
/// </summary>
static class Bursts
{
    static readonly Stopwatch Clock = Stopwatch.StartNew();
    static long _since;
    static long _dedicatedTicks, _poolTicks, _timerTicks;
    static Timer? _timer;
    static readonly ManualResetEventSlim Running = new(true);
    static readonly SemaphoreSlim Parked = new(0);
    static volatile bool _holdRequested;
    static volatile string? _dedicatedTask;
    public static volatile int Sink;
    static bool _waitOnMonitor;
    static readonly object Gate = new();

    /// <param name="waitOnMonitor">The dedicated thread waits between bursts in Monitor.Wait (a "lock/wait" state)
    /// instead of Thread.Sleep.</param>
    public static void Start(bool waitOnMonitor = false)
    {
        _waitOnMonitor = waitOnMonitor;
        new Thread(DedicatedLoop) { Name = "Burst worker", IsBackground = true }.Start();
        new Thread(PoolFeeder) { Name = "Burst feeder", IsBackground = true }.Start();
        _timer = new Timer(_ => TimerBurst(), null, 30, 30);
    }

    /// <summary>Answers SHARES and RESET lines until stdin closes.</summary>
    public static void AnswerQueries()
    {
        while (Console.ReadLine() is { } line)
        {
            if (line == "RESET")
            {
                Interlocked.Exchange(ref _dedicatedTicks, 0);
                Interlocked.Exchange(ref _poolTicks, 0);
                Interlocked.Exchange(ref _timerTicks, 0);
                Interlocked.Exchange(ref _since, Clock.ElapsedTicks);
                Console.WriteLine("RESET");
            }
            else if (line == "HOLD")
            {
                Running.Reset();
                _holdRequested = true;
                Parked.Wait();
                Console.WriteLine("HOLD");
            }
            else if (line == "RUN")
            {
                Running.Set();
                Console.WriteLine("RUN");
            }
            else if (line == "CPU")
            {
                while (_dedicatedTask is null) Thread.Sleep(1);
                var runTime = File.ReadAllText(Path.Combine(_dedicatedTask, "schedstat")).Split(' ')[0];
                Console.WriteLine($"CPU {Path.GetFileName(_dedicatedTask)} {runTime}");
            }
            else if (line == "SHARES")
            {
                var wall = (double)(Clock.ElapsedTicks - Interlocked.Read(ref _since));
                string Share(ref long ticks) => (100.0 * Interlocked.Read(ref ticks) / wall).ToString("0.000", CultureInfo.InvariantCulture);
                Console.WriteLine($"SHARES {Share(ref _dedicatedTicks)} {Share(ref _poolTicks)} {Share(ref _timerTicks)}");
            }
            Console.Out.Flush();
        }
    }

    static void DedicatedLoop()
    {
        // "/proc/thread-self" names this thread's task directory: /proc/<pid>/task/<tid>.
        _dedicatedTask = Path.Combine("/proc", new FileInfo("/proc/thread-self").LinkTarget!);
        var next = Clock.ElapsedTicks;
        var period = Stopwatch.Frequency / 20; // 50 ms
        while (true)
        {
            if (_holdRequested)
            {
                _holdRequested = false;
                Parked.Release();
                Running.Wait();
                next = Clock.ElapsedTicks;
            }
            DedicatedBurst();
            next += period;
            var wait = next - Clock.ElapsedTicks;
            if (wait > 0) Wait(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
            else next = Clock.ElapsedTicks;
        }
    }

    static void Wait(TimeSpan time)
    {
        if (!_waitOnMonitor)
        {
            Thread.Sleep(time);
            return;
        }
        lock (Gate) Monitor.Wait(Gate, time); // never pulsed: the timeout ends it
    }

    static void PoolFeeder()
    {
        var next = Clock.ElapsedTicks;
        var period = Stopwatch.Frequency / 50; // 20 ms
        while (true)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_ => PoolBurst(), null);
            next += period;
            var wait = next - Clock.ElapsedTicks;
            if (wait > 0) Thread.Sleep(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
            else next = Clock.ElapsedTicks;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void DedicatedBurst() => Interlocked.Add(ref _dedicatedTicks, Spin(3));

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void PoolBurst() => Interlocked.Add(ref _poolTicks, Spin(1));

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void TimerBurst() => Interlocked.Add(ref _timerTicks, Spin(2));

    /// <summary>Spins for <paramref name="ms"/> of wall time (running or waiting for a CPU alike); returns the ticks spent.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static long Spin(int ms)
    {
        var start = Clock.ElapsedTicks;
        var end = start + ms * Stopwatch.Frequency / 1000;
        var x = 0;
        long now;
        while ((now = Clock.ElapsedTicks) < end)
            for (var i = 0; i < 100; i++) x = x * 31 + 7;
        Sink = x;
        return now - start;
    }
}
