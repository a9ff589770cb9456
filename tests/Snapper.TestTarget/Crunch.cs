using System.Runtime.CompilerServices;

namespace Snapper.TestTarget;

/// <summary>
/// One thread crunching numbers in two methods by turns, its loop counter living in the caller's frame: the stack
/// bytes under the leaf change all the time, so no walk can be reused, yet the stack's shape barely changes.
/// </summary>
static class Crunch
{
    static long _units;

    public static void Start() => new Thread(Run) { IsBackground = true, Name = "Cruncher" }.Start();

    public static long Units => Interlocked.Read(ref _units);

    static void Run()
    {
        var sum = 0.0;
        for (long i = 0; ; i++)
        {
            sum += (i >> 10) % 2 == 0 ? Alpha(i) : Beta(i);
            if ((i & 1023) == 0) Interlocked.Add(ref _units, 1024);
            if (sum > double.MaxValue / 2) sum = 0;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static double Alpha(long i)
    {
        var x = (double)i;
        for (var k = 0; k < 200; k++) x = Math.Sqrt(x + k);
        return x;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static double Beta(long i)
    {
        var x = (double)i;
        for (var k = 0; k < 200; k++) x = x * 0.999 + k;
        return x;
    }
}
