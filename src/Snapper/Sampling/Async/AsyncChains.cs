namespace Snapper.Sampling.Async;

/// <summary>
/// Builds the pending chains from the pending tasks of one heap walk. A task's continuation names who awaits it, so the
/// links run from the awaited task to its awaiter; a box's awaiter field names what it awaits, which links the same pair
/// the other way when the continuation could not be followed. A chain starts at a task that awaits no pending task (the
/// innermost) and follows the awaiters out; a task awaited by several (a fan-out) starts one chain per awaiter path,
/// but a task two paths from the same innermost task lead to is followed out once: the second path ends there (so
/// paths through fan-outs that join again do not multiply). Chains without an async method in them (a
/// TaskCompletionSource's task no method awaits) are left out.
/// </summary>
public static class AsyncChains
{
    /// <summary>Bounds against a corrupt or enormous graph: the deepest chain followed, and the most chains built.</summary>
    public const int MaxDepth = 256, MaxChains = 100_000;

    public static IReadOnlyList<AsyncChain> Build(IReadOnlyList<PendingTask> pending)
    {
        var byAddress = new Dictionary<ulong, PendingTask>(pending.Count);
        foreach (var task in pending) byAddress.TryAdd(task.Address, task);
        var awaitedBy = new Dictionary<ulong, List<ulong>>();
        var awaitsPending = new HashSet<ulong>();
        void Link(ulong awaited, ulong awaiter)
        {
            if (awaited == awaiter || !byAddress.ContainsKey(awaited) || !byAddress.ContainsKey(awaiter)) return;
            if (!awaitedBy.TryGetValue(awaited, out var list)) awaitedBy[awaited] = list = [];
            if (!list.Contains(awaiter)) list.Add(awaiter);
            awaitsPending.Add(awaiter);
        }
        foreach (var task in pending)
        {
            foreach (var awaiter in task.Awaiters) Link(task.Address, awaiter);
            if (task.Awaits is { } awaited) Link(awaited.Address, task.Address);
        }

        var chains = new List<AsyncChain>();
        var path = new List<PendingTask>();
        var followed = new HashSet<ulong>();
        foreach (var task in pending)
        {
            if (awaitsPending.Contains(task.Address) || chains.Count >= MaxChains) continue;
            followed.Clear();
            Follow(task, awaitedBy, byAddress, path, followed, chains);
        }
        return chains;
    }

    /// <param name="followed">The tasks followed out from this chain's innermost task so far (those on the path among
    /// them): one reached again ends the path, which also ends a cycle (seen only in a corrupt graph).</param>
    static void Follow(PendingTask task, Dictionary<ulong, List<ulong>> awaitedBy, Dictionary<ulong, PendingTask> byAddress,
        List<PendingTask> path, HashSet<ulong> followed, List<AsyncChain> chains)
    {
        path.Add(task);
        var next = followed.Add(task.Address) && awaitedBy.TryGetValue(task.Address, out var awaiters)
            ? awaiters.Where(a => !path.Any(p => p.Address == a)).ToList()
            : [];
        if (next.Count == 0 || path.Count >= MaxDepth) chains.AddRange(ChainOf(path));
        else
            foreach (var awaiter in next)
            {
                if (chains.Count >= MaxChains) break;
                Follow(byAddress[awaiter], awaitedBy, byAddress, path, followed, chains);
            }
        path.RemoveAt(path.Count - 1);
    }

    /// <summary>
    /// A path as a chain: an innermost plain task (a Task.Delay's, a semaphore's) is what the chain waits for, not a step;
    /// an innermost async method waits for what its awaiter holds.
    /// </summary>
    static IEnumerable<AsyncChain> ChainOf(List<PendingTask> path)
    {
        var innermost = path[0];
        var steps = innermost.StateMachine is null ? path.Skip(1) : path;
        var frames = steps.Select(FrameOf).ToList();
        if (!frames.Any(f => f.IsAsyncMethod)) yield break;
        var leaf = innermost.StateMachine is null ? new AwaitedObject(innermost.Address, innermost.TypeName) : innermost.Awaits;
        yield return new AsyncChain(leaf, frames);
    }

    static AsyncFrame FrameOf(PendingTask task) => task.StateMachine is { } machine
        ? new AsyncFrame(AsyncMethodNames.Of(machine.TypeName), machine.TypeName, machine.State)
        : new AsyncFrame(task.TypeName, task.TypeName, null);
}
