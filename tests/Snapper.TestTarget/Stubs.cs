using System.Runtime.CompilerServices;

namespace Snapper.TestTarget;

/// <summary>
/// A thread that spends much of its time in a runtime stub: an interface call at one call site on objects of eight
/// types, which the runtime dispatches through a resolve stub (a lookup in its dispatch cache) on every call. The
/// implementations do next to nothing, so a sample finds the thread in the stub about as often as anywhere else.
/// </summary>
static class Stubs
{
    public static void Start()
    {
        using var started = new ManualResetEventSlim();
        new Thread(() => { started.Set(); Run(); }) { Name = "Interface caller", IsBackground = true }.Start();
        started.Wait();
    }

    static void Run()
    {
        IShape[] shapes = [new Shape1(), new Shape2(), new Shape3(), new Shape4(), new Shape5(), new Shape6(), new Shape7(), new Shape8()];
        var total = 0L;
        while (true) total += Shapes.SumAreas(shapes);
    }
}

static class Shapes
{
    /// <summary>One call site, eight receiver types: past what the JIT guesses, so every call goes through the stub.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static long SumAreas(IShape[] shapes)
    {
        var sum = 0L;
        for (var round = 0; round < 1000; round++)
            foreach (var shape in shapes) sum += shape.Area();
        return sum;
    }
}

interface IShape
{
    int Area();
}

sealed class Shape1 : IShape { public int Area() => 1; }
sealed class Shape2 : IShape { public int Area() => 2; }
sealed class Shape3 : IShape { public int Area() => 3; }
sealed class Shape4 : IShape { public int Area() => 4; }
sealed class Shape5 : IShape { public int Area() => 5; }
sealed class Shape6 : IShape { public int Area() => 6; }
sealed class Shape7 : IShape { public int Area() => 7; }
sealed class Shape8 : IShape { public int Area() => 8; }
