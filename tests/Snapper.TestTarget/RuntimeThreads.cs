using System.Diagnostics.Tracing;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.InteropServices;

namespace Snapper.TestTarget;

/// <summary>
/// One thread of each kind the runtime starts and names for itself, for the tests of how Snapper labels and classifies
/// them (RuntimeObjectAssumptionsTests), all there before READY (see <see cref="Internals"/>).
/// </summary>
static class RuntimeThreads
{
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
    public static void Start()
    {
        StartThem();
        WaitForThem();
    }

    static void StartThem()
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

    /// <summary>The OS names (15 characters at most) of the threads <see cref="StartThem"/> has the runtime start.</summary>
    static readonly string[] RuntimeThreadNames =
    [
        ".NET TP Worker", ".NET TP Gate", ".NET TP Wait", ".NET Timer", ".NET Long Runni", ".NET Sockets", ".NET File Watch",
        ".NET Counter Po", ".NET Server GC", ".NET Tiered Com", ".NET Finalizer", ".NET SigHandler", ".NET EventPipe",
    ];

    /// <summary>
    /// The runtime starts some of these threads a moment after the call that asks for them: READY waits until all are
    /// there (or 30 seconds have passed, and the test then says which are missing).
    /// </summary>
    static void WaitForThem()
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
