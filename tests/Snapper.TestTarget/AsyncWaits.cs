using System.Net;
using System.Net.Sockets;

namespace Snapper.TestTarget;

/// <summary>
/// Async chains three awaits deep (OuterAsync awaits MiddleAsync awaits InnerAsync), each waiting on one thing: a
/// Task.Delay (2 chains), a read from a socket whose peer never writes (3 chains) and a SemaphoreSlim no one releases (4
/// chains). The counts differ so that a grouping that mixes them up shows. Chains that ran to completion are kept
/// referenced (their boxes stay on the heap) and must not be listed as pending.
/// </summary>
static class AsyncWaits
{
    public const int DelayChains = 2, SocketChains = 3, SemaphoreChains = 4, FinishedChains = 5;

    static readonly List<Task> Pending = [];
    static readonly List<Task> Finished = [];
    static readonly List<Socket> Peers = []; // accepted, kept open and silent
    static TcpListener? _listener;

    public static void Start()
    {
        for (var i = 0; i < FinishedChains; i++) Finished.Add(FinishedWork.OuterAsync());
        Task.WaitAll([.. Finished]);
        for (var i = 0; i < DelayChains; i++) Pending.Add(DelayedWork.OuterAsync());
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        for (var i = 0; i < SocketChains; i++)
        {
            var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            Peers.Add(_listener.AcceptSocket());
            Pending.Add(SocketWork.OuterAsync(client.GetStream()));
        }
        var gate = new SemaphoreSlim(0);
        for (var i = 0; i < SemaphoreChains; i++) Pending.Add(GatedWork.OuterAsync(gate));
        // Each chain has reached its innermost await once its inner method has returned to its caller: InnerAsync's
        // first await did not complete synchronously, so every outer task is still pending here.
        if (Pending.Any(t => t.IsCompleted)) throw new InvalidOperationException("a chain finished early");
        GC.KeepAlive(Peers);
    }
}

static class DelayedWork
{
    public static async Task<int> OuterAsync() => await MiddleAsync() + 1;

    static async Task<int> MiddleAsync() => await InnerAsync() + 1;

    static async Task<int> InnerAsync()
    {
        await Task.Delay(TimeSpan.FromHours(1));
        return 1;
    }
}

static class SocketWork
{
    public static async Task<int> OuterAsync(NetworkStream stream) => await MiddleAsync(stream) + 1;

    static async Task<int> MiddleAsync(NetworkStream stream) => await InnerAsync(stream) + 1;

    static async Task<int> InnerAsync(NetworkStream stream)
    {
        var buffer = new byte[16];
        return await stream.ReadAsync(buffer.AsMemory());
    }
}

static class GatedWork
{
    public static async Task<int> OuterAsync(SemaphoreSlim gate) => await MiddleAsync(gate) + 1;

    static async Task<int> MiddleAsync(SemaphoreSlim gate) => await InnerAsync(gate) + 1;

    static async Task<int> InnerAsync(SemaphoreSlim gate)
    {
        await gate.WaitAsync();
        return 1;
    }
}

static class FinishedWork
{
    public static async Task<int> OuterAsync() => await MiddleAsync() + 1;

    static async Task<int> MiddleAsync() => await InnerAsync() + 1;

    static async Task<int> InnerAsync()
    {
        await Task.Delay(1);
        return 1;
    }
}
