namespace Snapper.Sampling.Async;

/// <summary>What a group of pending chains waits for. New kinds may be added.</summary>
public enum AwaitKind { HttpClient, Delay, Socket, Semaphore, Running, Other }

/// <summary>The chains that wait for the same kind of thing; identical chains counted once each (<see cref="Distinct"/>).</summary>
/// <param name="Label">What they wait for, for people: "HttpClient call", "Task.Delay", "socket Receive", ... or the awaited type.</param>
public sealed record AwaitGroup(AwaitKind Kind, string Label, int Chains, IReadOnlyList<CountedChain> Distinct);

public sealed record CountedChain(AsyncChain Chain, int Count);

/// <summary>
/// Groups chains by what they wait for, most chains first. An outbound HTTP call is named as such whatever socket or
/// pipe its innermost method waits on (the chain goes through HttpClient's own async methods); otherwise the innermost
/// awaited object decides: a Task.Delay's promise, a socket's awaitable event args, a SemaphoreSlim's waiter node. A chain
/// whose innermost method awaits nothing is running (or about to) on some thread.
/// </summary>
public static class AwaitGroups
{
    public static IReadOnlyList<AwaitGroup> Of(IEnumerable<AsyncChain> chains) =>
        chains.GroupBy(Classify)
            .Select(group => new AwaitGroup(group.Key.Kind, group.Key.Label, group.Count(),
                group.GroupBy(chain => chain.Key)
                    .Select(same => new CountedChain(same.First(), same.Count()))
                    .OrderByDescending(c => c.Count).ThenBy(c => c.Chain.Key, StringComparer.Ordinal).ToList()))
            .OrderByDescending(g => g.Chains).ThenBy(g => g.Label, StringComparer.Ordinal)
            .ToList();

    public static (AwaitKind Kind, string Label) Classify(AsyncChain chain)
    {
        if (chain.Frames.Any(f => f.TypeName.StartsWith("System.Net.Http.HttpClient+", StringComparison.Ordinal)))
            return (AwaitKind.HttpClient, "HttpClient call");
        var leaf = chain.Leaf?.TypeName;
        if (leaf is null)
            return chain.Frames[0].State == -1 ? (AwaitKind.Running, "running (on a thread now, or about to be)") : (AwaitKind.Other, "nothing found");
        if (leaf.StartsWith("System.Threading.Tasks.Task+DelayPromise", StringComparison.Ordinal)) return (AwaitKind.Delay, "Task.Delay");
        if (leaf.StartsWith("System.Threading.SemaphoreSlim", StringComparison.Ordinal)
            || chain.Frames.Any(f => f.TypeName.StartsWith("System.Threading.SemaphoreSlim+", StringComparison.Ordinal)))
            return (AwaitKind.Semaphore, "SemaphoreSlim.WaitAsync");
        // A socket's event args (Kestrel's SocketReceiver derives from them): the walk read which operation is under way.
        if (leaf.StartsWith("System.Net.Sockets.", StringComparison.Ordinal) || chain.Leaf!.Detail is not null)
            return (AwaitKind.Socket, SocketLabel(chain.Leaf!.Detail));
        return (AwaitKind.Other, leaf);
    }

    /// <summary>A socket's operation (SocketAsyncOperation's name) as what a reader calls it.</summary>
    static string SocketLabel(string? operation) => operation switch
    {
        null => "socket",
        _ when operation.StartsWith("Receive", StringComparison.Ordinal) => "socket read",
        _ when operation.StartsWith("Send", StringComparison.Ordinal) => "socket write",
        _ => "socket " + operation.ToLowerInvariant(),
    };
}
