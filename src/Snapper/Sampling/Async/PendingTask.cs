namespace Snapper.Sampling.Async;

/// <summary>
/// A task found on the target's heap that has not completed, as plain data read while the target was held (no ClrMD
/// object outlives the stop). An async method's task is its state machine box, which carries the state machine.
/// </summary>
/// <param name="Address">The task object's address.</param>
/// <param name="TypeName">The task's type as the runtime names it (for a box, the box's generic type).</param>
/// <param name="StateMachine">The async method's state machine, for a box; null for other tasks.</param>
/// <param name="Awaiters">The tasks its continuation leads to: who awaits it (empty: no one, or no one found).</param>
/// <param name="Awaits">What a box's state machine is awaiting now (its non-empty awaiter field); null when none or not a box.</param>
public sealed record PendingTask(ulong Address, string TypeName, AsyncStateMachine? StateMachine, IReadOnlyList<ulong> Awaiters, AwaitedObject? Awaits);

/// <param name="TypeName">The compiler-generated state machine's type, e.g. <c>Shop.Orders+&lt;GetAsync&gt;d__3</c>.</param>
/// <param name="State">Its <c>&lt;&gt;1__state</c>: -1 running (or not yet started), 0 and up the await it is suspended at, -2 done.</param>
public sealed record AsyncStateMachine(string TypeName, int State);

/// <summary>The object a state machine's awaiter holds: a task, or a ValueTask's source (a socket's event args, a pipe...).</summary>
/// <param name="Detail">What the object says it is doing, when known (a socket's operation: Receive, Send, Accept...).</param>
public sealed record AwaitedObject(ulong Address, string TypeName, string? Detail = null);

/// <summary>How much of the heap one walk covered, and what it cost the target.</summary>
/// <param name="Walkable">False when the runtime's heap could not be walked at the stop (a collection was under way).</param>
/// <param name="Complete">Every object of the heap was looked at (false: the budget ran out first).</param>
/// <param name="Elapsed">The walk's own time, within the hold.</param>
/// <param name="ReadingPending">The part of <paramref name="Elapsed"/> spent reading the pending tasks (their state machines'
/// types are described by the runtime the first time one is met: the costly part on a big service).</param>
public sealed record HeapWalkCoverage(bool Walkable, bool Complete, long ObjectsWalked, long BytesWalked, long HeapBytes,
    int TasksSeen, int CompletedLeftOut, TimeSpan Elapsed, TimeSpan Budget, TimeSpan ReadingPending = default);

/// <summary>One walk's pending tasks, with how far it got.</summary>
/// <param name="Failure">Why the heap was not walked (a thread of the process was not held) or the walk failed on an
/// error of its own; the thread dump is kept all the same. Null when the walk ran.</param>
public sealed record PendingAsyncHeap(IReadOnlyList<PendingTask> Pending, HeapWalkCoverage Coverage, string? Failure = null);
