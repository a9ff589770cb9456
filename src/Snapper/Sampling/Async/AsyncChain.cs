namespace Snapper.Sampling.Async;

/// <summary>
/// One pending chain of awaits, innermost first: what the innermost waits for (<see cref="Leaf"/>), then each awaiting
/// async method (or a task between them, such as a Task.WhenAll) up to the outermost one found.
/// </summary>
/// <param name="Leaf">What the chain waits for; null when the innermost method awaits nothing (it is running, or its
/// awaiter could not be read).</param>
public sealed record AsyncChain(AwaitedObject? Leaf, IReadOnlyList<AsyncFrame> Frames)
{
    /// <summary>Two chains with the same key wait for the same kind of thing through the same methods at the same awaits.</summary>
    public string Key { get; } = (Leaf is null ? "" : Leaf.TypeName + "/" + Leaf.Detail) + "|"
        + string.Join("|", Frames.Select(f => f.TypeName + "#" + f.State));
}

/// <summary>One step of a chain: an async method's state machine (with the await it is suspended at), or a plain task.</summary>
/// <param name="Name">The method (<c>Shop.Orders.GetAsync</c>) or, for a plain task, its type.</param>
/// <param name="TypeName">The state machine's type, or the task's.</param>
/// <param name="State">The state machine's <c>&lt;&gt;1__state</c>; null for a plain task.</param>
public sealed record AsyncFrame(string Name, string TypeName, int? State)
{
    public bool IsAsyncMethod => State is not null;
}
