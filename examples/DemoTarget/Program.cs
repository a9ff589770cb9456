// The demo target: a small "order service" whose threads each do one recognisable kind of work, so a Snapper
// report of it shows CPU work, recursion, lock waits, sleeps, a P/Invoke and a blocked socket read side by side.
// Prints "READY <pid>" once every thread runs. Exits after --seconds N (default: run until killed), or, with
// --exit-when-stdin-closes, when whoever started it goes away (snapper demo uses it so that even a killed
// Snapper leaves no demo spinning behind).
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DemoTarget;

var secondsAt = Array.IndexOf(args, "--seconds");
var seconds = secondsAt >= 0 && secondsAt + 1 < args.Length ? int.Parse(args[secondsAt + 1], System.Globalization.CultureInfo.InvariantCulture) : 0;
if (args.Contains("--exit-when-stdin-closes"))
    new Thread(() => { Console.In.ReadToEnd(); Environment.Exit(0); }) { IsBackground = true, Name = "StdinWatcher" }.Start();
var workers = new Workers();
workers.StartAll();
Console.WriteLine($"READY {Environment.ProcessId}");
Console.Out.Flush();
if (seconds > 0) Thread.Sleep(TimeSpan.FromSeconds(seconds));
else Thread.Sleep(Timeout.Infinite);

namespace DemoTarget
{
    sealed class Workers
    {
        readonly object _inventoryLock = new();
        readonly CountdownEvent _started = new(6);

        public void StartAll()
        {
            Start("PriceCalculator", () => new PriceCalculator().Run());
            Start("ReportBuilder", () => ReportBuilder<Order>.Run());
            Start("InventoryWaiter", WaitForInventory);
            Start("AuditSleeper", SleepBetweenAudits);
            Start("NativeClock", NativeClock.Run);
            Start("SocketReader", SocketReader.Run);
            _started.Wait();
        }

        void Start(string name, Action body)
        {
            var thread = new Thread(() => { _started.Signal(); body(); }) { Name = name, IsBackground = true };
            thread.Start();
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        void WaitForInventory()
        {
            lock (_inventoryLock) Monitor.Wait(_inventoryLock);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static void SleepBetweenAudits()
        {
            while (true) Thread.Sleep(1000);
        }
    }

    record Order(int Id, decimal Amount);

    sealed class PriceCalculator
    {
        public double Total;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Run()
        {
            while (true) Total += Discount(depth: 12, Tax(17.5));
        }

        /// <summary>Recursion, so the call tree shows a deep chain of the same frame.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        static double Discount(int depth, double price) => depth == 0 ? Spin(price) : Discount(depth - 1, price * 0.999) + 0.001;

        [MethodImpl(MethodImplOptions.NoInlining)]
        static double Tax(double price) => price * 1.2;

        [MethodImpl(MethodImplOptions.NoInlining)]
        static double Spin(double x)
        {
            for (var i = 0; i < 20_000; i++) x = Math.Sqrt(x * x + i);
            return x;
        }
    }

    /// <summary>A generic type: its frames are named <c>ReportBuilder&lt;Order&gt;</c>, which a report must escape.</summary>
    static class ReportBuilder<T>
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Run()
        {
            var format = (int i) => $"line {i}: {typeof(T).Name}";
            while (true)
            {
                var text = new System.Text.StringBuilder();
                for (var i = 0; i < 2_000; i++) text.AppendLine(format(i));
                GC.KeepAlive(text.ToString());
                Thread.Sleep(5);
            }
        }
    }

    static partial class NativeClock
    {
        [DllImport("libc", EntryPoint = "usleep")]
        static extern int usleep(uint microseconds);

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Run()
        {
            while (true) usleep(500_000);
        }
    }

    static class SocketReader
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Run()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            using var client = new TcpClient();
            client.Connect((IPEndPoint)listener.LocalEndpoint);
            using var server = listener.AcceptSocket();
            var buffer = new byte[64];
            // Nobody ever writes: this thread stays blocked in a socket read.
            while (server.Receive(buffer) > 0) { }
        }
    }
}
