using System.Runtime.CompilerServices;

namespace Snapper.TestTarget;

/// <summary>Blocks in two different methods by turns, at the same stack depth and in the same syscall.</summary>
static class Alternating
{
    public static void Start()
    {
        using var started = new ManualResetEventSlim();
        new Thread(() => { started.Set(); Run(); }) { Name = "Alternator", IsBackground = true }.Start();
        started.Wait();
    }

    static void Run()
    {
        while (true)
        {
            Alpha.Wait();
            Beta.Wait();
        }
    }
}

static class Alpha
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Wait() => Thread.Sleep(40);
}

static class Beta
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Wait() => Thread.Sleep(40);
}
