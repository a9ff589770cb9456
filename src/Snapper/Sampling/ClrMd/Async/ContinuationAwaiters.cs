using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd.Async;

/// <summary>
/// Who awaits a task: the tasks its <c>m_continuationObject</c> leads to. The runtime stores there an awaiting async
/// method's box itself (an await with no context to return to), a delegate whose target is a box or a
/// <c>ContinuationWrapper</c> around one, a <c>TaskContinuation</c> (an <c>AwaitTaskContinuation</c>'s action, a
/// <c>ContinueWith</c>'s task), another task waiting on it (a Task.WhenAll's promise), or a List&lt;object&gt; of these. For
/// one walk only (it holds ClrMD types).
/// </summary>
sealed class ContinuationAwaiters(ClrHeap heap, IDataReader memory, TaskLayouts layouts)
{
    const int MaxDepth = 8; // a wrapper's delegate's target's ...: a few levels at most in the runtime's own shapes
    const int MaxListItems = 4096;

    readonly Dictionary<ulong, Shape> _shapes = new();

    /// <summary>How objects of one type lead to tasks: which fields to follow, or whether it is a list.</summary>
    sealed record Shape(bool IsTask, bool IsList, IReadOnlyList<int> FollowOffsets, int ItemsOffset, int SizeOffset);

    static readonly Shape Nothing = new(false, false, [], -1, -1);

    public void AddAwaiters(ulong continuation, List<ulong> into) => Add(continuation, into, 0);

    void Add(ulong address, List<ulong> into, int depth)
    {
        if (address == 0 || depth > MaxDepth || heap.GetObjectType(address) is not { } type) return;
        var shape = ShapeOf(type);
        if (shape.IsTask)
        {
            into.Add(address);
            return;
        }
        foreach (var offset in shape.FollowOffsets)
            if (memory.ReadPointer(address + (ulong)offset, out var next)) Add(next, into, depth + 1);
        if (shape.IsList && memory.ReadPointer(address + (ulong)shape.ItemsOffset, out var items) && memory.Read(address + (ulong)shape.SizeOffset, out int size)
            && items != 0 && heap.GetObjectType(items) is { IsArray: true } arrayType && memory.Read(items + (ulong)memory.PointerSize, out int length))
            for (var i = 0; i < Math.Min(Math.Min(size, length), MaxListItems); i++)
                if (memory.ReadPointer(arrayType.GetArrayElementAddress(items, i), out var item)) Add(item, into, depth + 1);
    }

    Shape ShapeOf(ClrType type)
    {
        if (_shapes.TryGetValue(type.MethodTable, out var known)) return known;
        return _shapes[type.MethodTable] = Learn(type);
    }

    Shape Learn(ClrType type)
    {
        if (layouts.Of(type) is not null) return new Shape(true, false, [], -1, -1);
        var name = type.Name ?? "";
        var follow = new List<int>();
        void Follow(string field)
        {
            if (TaskLayouts.FieldOf(type, field) is { IsObjectReference: true } found) follow.Add(memory.PointerSize + found.Offset);
        }
        if (TaskLayouts.DerivesFrom(type, "System.Delegate")) Follow("_target");
        else if (name.EndsWith("+ContinuationWrapper", StringComparison.Ordinal)) Follow("_continuation");
        else if (TaskLayouts.DerivesFrom(type, "System.Threading.Tasks.TaskContinuation"))
        {
            Follow("m_action"); // AwaitTaskContinuation and its context-capturing subclasses
            Follow("m_task"); // ContinueWithTaskContinuation
        }
        else if (name == "System.Collections.Generic.List<System.Object>"
                 && TaskLayouts.FieldOf(type, "_items") is { } items && TaskLayouts.FieldOf(type, "_size") is { } size)
            return new Shape(false, true, [], memory.PointerSize + items.Offset, memory.PointerSize + size.Offset);
        return follow.Count == 0 ? Nothing : new Shape(false, false, follow, -1, -1);
    }
}
