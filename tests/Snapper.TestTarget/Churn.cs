using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Snapper.TestTarget;

/// <summary>
/// Worker threads whose stacks change all the time, through every kind of frame a stack walk meets: recursion to
/// varying depths, P/Invokes (an inlined one and a marshalling stub), exceptions thrown and caught (handlers run as
/// funclets), a finally the method's body calls as a funclet on its way out, shared generic code (its dictionary lookups go through a runtime helper), interface dispatch, and
/// allocation (GC suspensions redirect or hijack threads). A stack walk of this target is never reused: it is what
/// the fast walk is checked against the DAC's on, and what the benchmark measures a service-like load with.
/// </summary>
static class Churn
{
    [DllImport("libc", EntryPoint = "usleep")]
    static extern int USleep(uint microseconds);

    [DllImport("libc", EntryPoint = "getpid", CharSet = CharSet.Unicode, SetLastError = true)]
    static extern int GetPidWithStub(); // SetLastError: a marshalling IL stub instead of an inlined call

    static long _units;

    public static long Units => Interlocked.Read(ref _units);

    public static void Start(int workers)
    {
        for (var i = 0; i < workers; i++)
        {
            var seed = i;
            new Thread(() => Work(seed)) { IsBackground = true, Name = $"Churn worker {i}" }.Start();
        }
    }

    static void Work(int seed)
    {
        var random = new Random(seed);
        IShape[] shapes = [new Square(), new Circle()];
        while (true)
        {
            var depth = random.Next(1, 30);
            switch (random.Next(7))
            {
                case 0: Recurse(depth, () => Spin(20_000)); break;
                case 1: Recurse(depth, () => USleep(200)); break;
                case 2: Recurse(depth, () => GetPidWithStub()); break;
                case 3: Recurse(depth, Throw); break;
                case 4: Recurse(depth, () => Shared<string>.Describe(shapes[random.Next(2)], 2_000)); break;
                case 5: Recurse(depth, FinallyCalledByTheBody); break;
                default: Recurse(depth, Allocate); break;
            }
            Interlocked.Increment(ref _units);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Recurse(int depth, Action leaf)
    {
        if (depth <= 0) leaf();
        else Recurse(depth - 1, leaf);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static double Spin(int iterations)
    {
        var x = 1.0;
        for (var i = 0; i < iterations; i++) x = x * 1.000001 + 0.5;
        return x;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Throw()
    {
        try
        {
            throw new InvalidOperationException("churn");
        }
        catch (InvalidOperationException e) when (e.Message.Length > 0)
        {
            Spin(5_000);
        }
        finally
        {
            Spin(1_000);
        }
    }

    /// <summary>
    /// A finally run without an exception: the JIT copies a finally inline into the try's exits, except one that holds
    /// a try of its own (and at tier 0), which the body then calls as a funclet; the spin is called from inside it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void FinallyCalledByTheBody()
    {
        try
        {
            Interlocked.Increment(ref _units);
        }
        finally
        {
            try
            {
                Spin(20_000);
            }
            finally
            {
                Interlocked.Decrement(ref _units);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Allocate()
    {
        var list = new List<byte[]>();
        for (var i = 0; i < 64; i++) list.Add(new byte[4096]);
        GC.KeepAlive(list);
    }

    interface IShape
    {
        double Area(int i);
    }

    sealed class Square : IShape
    {
        public double Area(int i) => i * (double)i;
    }

    sealed class Circle : IShape
    {
        public double Area(int i) => Math.PI * i * i;
    }

    static class Shared<T> where T : class
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static double Describe(IShape shape, int n)
        {
            var sum = 0.0;
            for (var i = 0; i < n; i++) sum += shape.Area(i) + Lookup<T>.Count;
            return sum;
        }
    }

    static class Lookup<T>
    {
        public static int Count = typeof(T).Name.Length;
    }
}
