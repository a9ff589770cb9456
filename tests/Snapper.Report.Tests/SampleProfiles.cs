using Snapper.Store;
using static Snapper.Report.Tests.ProfileBuilder;

namespace Snapper.Report.Tests;

/// <summary>Profiles shared by several tests.</summary>
static class SampleProfiles
{
    /// <summary>
    /// Small but covers every case: own, framework, transition and native frames; recursion; one method seen on two
    /// lines; a thread with empty stacks; a thread never sampled; every state, CPU time, and an idle pool worker
    /// (hidden by default).
    /// </summary>
    public static Profile Demo()
    {
        var b = new ProfileBuilder();
        var main = b.Thread(1, "Main");
        var worker = b.Thread(2, null, osThreadId: 2077, managedThreadId: 9);
        var idle = b.Thread(3, "Finalizer", osName: ".NET Finalizer", role: "finalizer");
        b.Thread(4, "Never sampled");
        var pool = b.Thread(5, null, osName: ".NET TP Worker", role: "thread pool worker");

        var entry = Managed("Program", "Main");
        var run = Managed("Server", "Run");
        var handle10 = Managed("Server", "Handle", line: 10);
        var handle12 = Managed("Server", "Handle", line: 12);
        var parse = Managed("Parser", "Parse");
        var sort = Framework("System.Collections.Generic.List`1", "Sort");
        var pinvoke = Transition("[PInvoke] read");
        var read = Native("__libc_read", "libc.so.6");
        var threadStart = Framework("System.Threading.Thread", "StartCallback");
        var wait = Framework("System.Threading.Monitor", "Wait");

        b.Sample(main, b.Stack(entry, run, handle10, parse), 30, SampleState.Cpu, 10_000_000);
        b.Sample(main, b.Stack(entry, run, handle12, sort), 15, SampleState.Cpu, 9_000_000);
        b.Sample(main, b.Stack(entry, run, handle10, parse, parse, parse), 10, SampleState.Cpu, 10_000_000); // recursion
        b.Sample(main, b.Stack(entry, run), 5, SampleState.Sleep);
        b.Sample(worker, b.Stack(threadStart, pinvoke, read), 20, SampleState.Io, 50_000);
        b.Sample(worker, b.Stack(threadStart, wait), 10, SampleState.LockWait);
        b.Sample(idle, 0, 10, SampleState.LockWait);
        b.Sample(pool, b.Stack(threadStart, Framework("System.Threading.LowLevelLifoSemaphore", "WaitForSignal")), 8, SampleState.IdleThreadPool);
        return b.Build();
    }

    /// <summary>
    /// A larger, service-like profile for looking at the HTML: many threads, deep framework stacks, a long tail.
    /// Deterministic (fixed seed).
    /// </summary>
    public static Profile Service(int samplesPerThread = 2_000)
    {
        var random = new Random(20250131);
        var b = new ProfileBuilder();
        var threads = new List<ThreadInfo> { b.Thread(1, "Main") };
        for (var i = 0; i < 8; i++) threads.Add(b.Thread(10 + i, i < 6 ? $".NET ThreadPool Worker" : null, 3000 + i, 20 + i));

        var host = new[] { Managed("Program", "Main"), Managed("Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions", "Run", "Microsoft.Extensions.Hosting.Abstractions.dll") };
        var pool = new[] { Framework("System.Threading.PortableThreadPool+WorkerThread", "WorkerThreadStart"), Framework("System.Threading.ThreadPoolWorkQueue", "Dispatch") };
        var handlers = new[] { "GetOrders", "GetCustomer", "PostOrder", "Search", "Health" };
        string[] leaves = ["Dictionary`2.FindValue", "String.Concat", "Utf8JsonWriter.WriteString", "Enumerable.ToList", "SpinWait.SpinOnce"];
        for (var t = 0; t < threads.Count; t++)
        {
            for (var s = 0; s < samplesPerThread; s++)
            {
                var frames = new List<FrameInfo>(t == 0 ? host : pool);
                if (t == 0)
                {
                    frames.Add(Framework("System.Threading.Tasks.Task", "Wait"));
                    frames.Add(Transition("[HelperMethodFrame] Monitor.Wait"));
                    frames.Add(Native("futex_wait", "libc.so.6"));
                }
                else if (random.NextDouble() < 0.25) frames.Add(Native("epoll_wait", "libc.so.6"));
                else
                {
                    frames.Add(Managed("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol", "ProcessRequests", "Microsoft.AspNetCore.Server.Kestrel.Core.dll"));
                    var handler = handlers[(int)Math.Floor(Math.Pow(random.NextDouble(), 2) * handlers.Length)];
                    frames.Add(Managed("DemoApp.Controllers.OrdersController", handler + "<T>"));
                    var depth = random.Next(0, 6);
                    for (var d = 0; d < depth; d++) frames.Add(Managed("DemoApp.Domain.Rules", "Evaluate" + random.Next(0, 3)));
                    var leaf = leaves[random.Next(leaves.Length)].Split('.');
                    frames.Add(Framework("System.Collections.Generic." + leaf[0], leaf[1]));
                }
                b.Sample(threads[t], b.Stack(frames.ToArray()));
            }
        }
        return b.Build();
    }
}
