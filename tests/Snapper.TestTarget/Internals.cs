using System.Diagnostics.Tracing;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.InteropServices;

namespace Snapper.TestTarget;

/// <summary>
/// The runtime internals Snapper reads, each in a known state before READY, for the tests that check Snapper's
/// assumptions about them (RuntimeAssumptionsTests): the "locks" scenario's Monitors (held, with sync blocks) and
/// System.Threading.Locks; a Monitor held twice by one thread without contention (a thin lock, recursion in its
/// header); a Monitor held twice with a waiter (a sync block, recursion 2); a Monitor contended, then free; a Monitor
/// whose thread waits in Monitor.Wait (a sync block, the lock free, never contended); four threads in a P/Invoke; a
/// spinning thread; and one thread of each kind the runtime starts and names for itself (see
/// <see cref="StartRuntimeThreads"/>).
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
        StartRuntimeThreads();
        WaitForRuntimeThreads();
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

    // Kept alive for the life of the process: each keeps its runtime thread busy or waiting.
    static Timer? _timer;
    static RegisteredWaitHandle? _registeredWait;
    static Socket? _listener;
    static FileSystemWatcher? _watcher;
    static CounterListener? _counters;
    static Func<int, int>? _tiered;
    static PosixSignalRegistration? _signal;

    /// <summary>
    /// Starts what makes the runtime start its own named threads: thread pool workers and gate, a registered wait, a
    /// timer, a long-running task, an asynchronous socket operation, a file watcher, an event-counter listener, a signal
    /// handler, and code that the tiered compilation worker promotes (the tests keep that worker from exiting when idle,
    /// and run this target with server GC, whose threads have names of their own).
    /// </summary>
    static void StartRuntimeThreads()
    {
        // A worker kept busy for good, so that one is there whatever the pool's idle timeout; then a few work items at
        // once, so that idle ones are there too (for as long as the timeout lets them: the tests switch it off).
        Task.Run(() => Thread.Sleep(Timeout.Infinite));
        Task.WaitAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Thread.SpinWait(200_000))).ToArray());
        _registeredWait = ThreadPool.RegisterWaitForSingleObject(new AutoResetEvent(false), (_, _) => { }, null, Timeout.Infinite, false);
        _timer = new Timer(_ => { }, null, TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan);
        Task.Factory.StartNew(() => Thread.Sleep(Timeout.Infinite), TaskCreationOptions.LongRunning);
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        _ = _listener.AcceptAsync();
        _watcher = new FileSystemWatcher(AppContext.BaseDirectory) { EnableRaisingEvents = true };
        _counters = new CounterListener();
        // The runtime's signal-handling thread starts with the first handler (or the console's first use).
        if (OperatingSystem.IsLinux()) _signal = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => { });
        _tiered = EmitPromotable();
        for (var call = 0; call < 60; call++) _tiered(call);
    }

    /// <summary>The OS names (15 characters at most) of the threads <see cref="StartRuntimeThreads"/> has the runtime start.</summary>
    static readonly string[] RuntimeThreadNames =
    [
        ".NET TP Worker", ".NET TP Gate", ".NET TP Wait", ".NET Timer", ".NET Long Runni", ".NET Sockets", ".NET File Watch",
        ".NET Counter Po", ".NET Server GC", ".NET Tiered Com", ".NET Finalizer", ".NET SigHandler", ".NET EventPipe",
    ];

    /// <summary>
    /// The runtime starts some of these threads a moment after the call that asks for them: READY waits until all are
    /// there (or 30 seconds have passed, and the test then says which are missing).
    /// </summary>
    static void WaitForRuntimeThreads()
    {
        var deadline = Environment.TickCount64 + 30_000;
        while (Environment.TickCount64 < deadline && !RuntimeThreadNames.All(OwnThreadNames().Contains))
            Thread.Sleep(50);
    }

    static HashSet<string> OwnThreadNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                names.Add(File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'));
            }
            catch (IOException)
            {
                // the thread ended meanwhile
            }
        }
        return names;
    }

    /// <summary>
    /// A method of an emitted (optimizable) assembly: this project is a Debug build, whose methods the runtime never
    /// recompiles, so they would not give the tiered compilation worker anything to do.
    /// </summary>
    static Func<int, int> EmitPromotable()
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("Promotable"), AssemblyBuilderAccess.Run);
        var type = assembly.DefineDynamicModule("Promotable").DefineType("Generated", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed);
        var il = type.DefineMethod("Twice", MethodAttributes.Public | MethodAttributes.Static, typeof(int), [typeof(int)]).GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldc_I4_2);
        il.Emit(OpCodes.Mul);
        il.Emit(OpCodes.Ret);
        return type.CreateType().GetMethod("Twice")!.CreateDelegate<Func<int, int>>();
    }

    /// <summary>Listens to the runtime's event counters, which the runtime then polls on a thread of its own.</summary>
    sealed class CounterListener : EventListener
    {
        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "System.Runtime")
                EnableEvents(source, EventLevel.Informational, EventKeywords.All, new Dictionary<string, string?> { ["EventCounterIntervalSec"] = "1" });
        }
    }
}

sealed class ThinLedger;

sealed class RecursiveLedger;
