// The "mixed" scenario (named threads spinning, recursing, in a P/Invoke and in Monitor.Wait) and the "hostile" one.
// A file of its own so that the target for older runtimes (tests/Snapper.OlderRuntimesTarget) can link it.
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Snapper.TestTarget;

static class Scenarios
{
    public static void Mixed()
    {
        using var started = new CountdownEvent(5);
        Start("Spinner", started, Spinner.Spin);
        Start("Order pipeline: settlement worker #1", started, Waiter.Run);
        Start("Recursor", started, () => Recursor.Recurse(20));
        Start("NativeSleeper", started, NativeSleeper.Run);
        Start("Waiter", started, Waiter.Run);
        started.Wait();
        // The recursion must be at its bottom before READY: wait for it there.
        Recursor.AtBottom.Wait();
    }

    public static void Hostile()
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("Hostile"), AssemblyBuilderAccess.Run);
        var module = assembly.DefineDynamicModule("Hostile");
        var type = module.DefineType("<img src=x onerror=alert(1)>", TypeAttributes.Public | TypeAttributes.Class);
        var method = type.DefineMethod("</script><b>Run</b>", MethodAttributes.Public | MethodAttributes.Static, typeof(void), Type.EmptyTypes);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldc_I4, Timeout.Infinite);
        il.Emit(OpCodes.Call, typeof(Thread).GetMethod(nameof(Thread.Sleep), [typeof(int)])!);
        il.Emit(OpCodes.Ret);
        var run = type.CreateType().GetMethod("</script><b>Run</b>")!;
        using var started = new CountdownEvent(1);
        Start("<script>alert('thread')</script>", started, () => run.Invoke(null, null));
        started.Wait();
        Thread.Sleep(200); // let it reach its Sleep
    }

    static void Start(string name, CountdownEvent started, Action body)
    {
        new Thread(() => { started.Signal(); body(); }) { Name = name, IsBackground = true }.Start();
    }
}

static class Spinner
{
    public static volatile int Sink;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Spin()
    {
        var x = 0;
        while (true) { x = x * 31 + 7; Sink = x; }
    }
}

static class Recursor
{
    public static readonly ManualResetEventSlim AtBottom = new();
    static readonly object Gate = new();

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Recurse(int depth)
    {
        if (depth == 0)
        {
            AtBottom.Set();
            lock (Gate) Monitor.Wait(Gate);
            return 0;
        }
        return Recurse(depth - 1) + 1;
    }
}

static class NativeSleeper
{
    [DllImport("libc", EntryPoint = "usleep")]
    static extern int Usleep(uint microseconds);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Run()
    {
        while (true) Usleep(1_000_000);
    }
}

static class Waiter
{
    static readonly object Gate = new();

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Run()
    {
        lock (Gate) Monitor.Wait(Gate);
    }
}
