using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Snapper.TestTarget;

/// <summary>Busy in native code entered with no transition frame: the case the DAC cannot unwind by itself.</summary>
static unsafe class NativeLeaf
{
    [DllImport("libc", EntryPoint = "memset")]
    [SuppressGCTransition]
    static extern void* Memset(void* destination, int value, nuint length);

    public static void Start()
    {
        using var started = new ManualResetEventSlim();
        new Thread(() => { started.Set(); Run(); }) { Name = "NativeLeaf", IsBackground = true }.Start();
        started.Wait();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Run()
    {
        var buffer = NativeMemory.Alloc(1 << 20);
        while (true) Fill(buffer);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Fill(void* buffer) => Memset(buffer, 7, 1 << 20);
}
