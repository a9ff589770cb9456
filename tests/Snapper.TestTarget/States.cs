using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Snapper.TestTarget;

/// <summary>
/// One thread per state Snapper must tell apart, each in a method named for what it does: a spinner, a Monitor.Wait,
/// a Thread.Sleep, a blocking socket read, a P/Invoke into libc's usleep. Some threads are named before they start,
/// the waiter names itself after it has started (the OS name then changes while Snapper may already be watching),
/// and the thread pool is warmed up so it has idle workers.
/// </summary>
static class States
{
    public static void Start()
    {
        using var started = new CountdownEvent(6);
        StartNamed("Busy spinner", started, StateSpinner.Spin);
        StartNamed("Sleepy", started, StateSleeper.Sleep);
        StartNamed("Socket reader", started, StateSocketReader.Read);
        StartNamed("Native caller", started, StatePInvoker.Call);
        new Thread(() =>
        {
            Thread.CurrentThread.Name = "Late named waiter";
            started.Signal();
            StateWaiter.Wait();
        }) { IsBackground = true }.Start();
        _unnamed = new Thread(() => { started.Signal(); StateWaiter.Wait(); }) { IsBackground = true };
        _unnamed.Start();
        started.Wait();
        WarmThreadPool();
        Thread.Sleep(100); // let each thread reach its blocking call
    }

    static Thread? _unnamed;

    /// <summary>Names the unnamed waiter from another thread when asked, while Snapper may be watching.</summary>
    public static void RenameOnRequest()
    {
        while (Console.ReadLine() is { } line)
        {
            if (line != "rename") continue;
            _unnamed!.Name = "Renamed while watched";
            Console.WriteLine("RENAMED");
            Console.Out.Flush();
        }
        Thread.Sleep(Timeout.Infinite); // stdin closed: keep running for whoever samples us
    }

    static void StartNamed(string name, CountdownEvent started, Action body) =>
        new Thread(() => { started.Signal(); body(); }) { Name = name, IsBackground = true }.Start();

    /// <summary>Runs a few work items at once so the pool has several workers, which then park.</summary>
    static void WarmThreadPool()
    {
        var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(() => Thread.SpinWait(200_000))).ToArray();
        Task.WaitAll(tasks);
    }
}

static class StateSpinner
{
    public static volatile int Sink;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Spin()
    {
        var x = 0;
        while (true) { x = x * 31 + 7; Sink = x; }
    }
}

static class StateSleeper
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Sleep()
    {
        while (true) Thread.Sleep(500);
    }
}

static class StateWaiter
{
    static readonly object Gate = new();

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Wait()
    {
        lock (Gate) Monitor.Wait(Gate);
    }
}

static class StateSocketReader
{
    /// <summary>Connects to a listener of its own that never sends: the read blocks in recvmsg forever.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Read()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using var server = listener.AcceptSocket();
        var buffer = new byte[16];
        while (client.Receive(buffer) > 0) { }
    }
}

static class StatePInvoker
{
    [DllImport("libc", EntryPoint = "usleep")]
    static extern int Usleep(uint microseconds);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Call()
    {
        while (true) Usleep(200_000);
    }
}

/// <summary>One thread that spends 70% of its CPU in <see cref="Seventy"/> and 30% in <see cref="Thirty"/>, in 10 ms rounds.</summary>
static class Split
{
    public static volatile int Sink;

    public static void Start()
    {
        using var started = new ManualResetEventSlim();
        new Thread(() => { started.Set(); Run(); }) { Name = "Splitter", IsBackground = true }.Start();
        started.Wait();
    }

    static void Run()
    {
        while (true)
        {
            Seventy(TimeSpan.FromMilliseconds(7));
            Thirty(TimeSpan.FromMilliseconds(3));
        }
    }

    /// <summary>Burns CPU for <paramref name="cpu"/> of this thread's own CPU time, not wall time: being descheduled must not shift the split.</summary>
    static void Burn(TimeSpan cpu)
    {
        var until = ThreadCpu.Now() + cpu;
        var x = 0;
        while (ThreadCpu.Now() < until)
            for (var i = 0; i < 1000; i++) { x = x * 31 + 7; Sink = x; }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Seventy(TimeSpan cpu) => Burn(cpu);

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Thirty(TimeSpan cpu) => Burn(cpu);
}

/// <summary>The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID).</summary>
static class ThreadCpu
{
    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds, Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    const int ClockThreadCpuTime = 3;

    public static TimeSpan Now()
    {
        ClockGetTime(ClockThreadCpuTime, out var t);
        return TimeSpan.FromTicks(t.Seconds * TimeSpan.TicksPerSecond + t.Nanoseconds / 100);
    }
}
