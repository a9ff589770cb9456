using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd.Async;

/// <summary>Where a task type keeps what the async walk reads, as offsets from the object's address.</summary>
/// <param name="StateMachine">For a state machine box, its <c>StateMachine</c> field (a struct kept inside the box in
/// Release builds, a reference to a class in Debug builds); null for other tasks.</param>
sealed record TaskLayout(string TypeName, int StateFlagsOffset, int ContinuationOffset, ClrInstanceField? StateMachine)
{
    public bool IsBox => StateMachine is not null;
}

/// <summary>A compiler-generated state machine: where its <c>&lt;&gt;1__state</c> is, and the object references its awaiter
/// fields (<c>&lt;&gt;u__N</c>) hold, as offsets from the start of its data.</summary>
sealed record StateMachineLayout(string TypeName, int StateOffset, IReadOnlyList<int> AwaiterReferenceOffsets);

/// <summary>
/// Learns, once per type (by MethodTable), whether a heap object is a task and where its fields are. Types are found by
/// name: a task derives from System.Threading.Tasks.Task; an async method's box is a task with a <c>StateMachine</c>
/// field (AsyncTaskMethodBuilder&lt;T&gt;.AsyncStateMachineBox&lt;TStateMachine&gt;, which the non-generic and the ValueTask
/// builders use too, and its DebugFinalizableAsyncStateMachineBox subclass). No MethodTable value is assumed. Holds ClrMD
/// types: for one walk only (they are stale after a flush).
/// </summary>
sealed class TaskLayouts(int pointerSize)
{
    const string TaskTypeName = "System.Threading.Tasks.Task";
    const int MaxAwaiterDepth = 4; // ValueTaskAwaiter<T> { ValueTask<T> _value { object _obj } }: two levels, with room

    readonly Dictionary<ulong, TaskLayout?> _tasks = new();
    readonly Dictionary<ulong, StateMachineLayout?> _stateMachines = new();

    /// <summary>
    /// The task layout of objects of <paramref name="type"/>; null when it is not a task. Cheap: asked of every type met
    /// on the heap. What costs (the state machine's type, see <see cref="StateMachineOf"/>) is asked of pending boxes only.
    /// </summary>
    public TaskLayout? Of(ClrType type)
    {
        if (_tasks.TryGetValue(type.MethodTable, out var known)) return known;
        return _tasks[type.MethodTable] = Learn(type);
    }

    TaskLayout? Learn(ClrType type)
    {
        if (!DerivesFrom(type, TaskTypeName) || FieldOf(type, "m_stateFlags") is not { } flags || FieldOf(type, "m_continuationObject") is not { } continuation)
            return null;
        return new TaskLayout(type.Name ?? "?", pointerSize + flags.Offset, pointerSize + continuation.Offset, FieldOf(type, "StateMachine"));
    }

    /// <summary>
    /// The layout of a state machine type (a struct kept in a box, or a class a box points to). Costly the first time
    /// for a struct in a generic box: ClrMD finds a field's generic type by its name (measured 0.2-70 ms a type on
    /// ShopService, ~6 ms on average), and an awaiter's type the same way.
    /// </summary>
    public StateMachineLayout? StateMachineOf(ClrType type)
    {
        if (_stateMachines.TryGetValue(type.MethodTable, out var known)) return known;
        StateMachineLayout? layout = null;
        if (FieldOf(type, "<>1__state") is { } state)
        {
            var awaiters = new List<int>();
            foreach (var field in type.Fields)
                if (field.Name?.StartsWith("<>u__", StringComparison.Ordinal) == true) AddReferences(field, 0, awaiters, 0, awaiterField: true);
            layout = new StateMachineLayout(type.Name ?? "?", state.Offset, awaiters);
        }
        return _stateMachines[type.MethodTable] = layout;
    }

    /// <summary>
    /// The references an awaiter field holds: the field itself when it is a reference (a class awaiter), else the task or
    /// ValueTask source inside the awaiter struct (TaskAwaiter's <c>m_task</c>, ValueTask's <c>_obj</c>); never a
    /// ValueTask&lt;T&gt;'s <c>_result</c>, which is a result, not something awaited.
    /// </summary>
    static void AddReferences(ClrInstanceField field, int offset, List<int> into, int depth, bool awaiterField)
    {
        var at = offset + field.Offset;
        if (field.IsObjectReference)
        {
            if (awaiterField || field.Name is "m_task" or "_obj") into.Add(at);
            return;
        }
        if (!field.IsValueType || field.Type is not { } type || depth >= MaxAwaiterDepth) return;
        foreach (var inner in type.Fields) AddReferences(inner, at, into, depth + 1, awaiterField: false);
    }

    public static bool DerivesFrom(ClrType? type, string baseName)
    {
        for (var depth = 0; type is not null && depth < 32; depth++, type = type.BaseType)
            if (type.Name == baseName) return true;
        return false;
    }

    /// <summary>An instance field by name, declared by the type or one of its bases.</summary>
    public static ClrInstanceField? FieldOf(ClrType? type, string name)
    {
        for (var depth = 0; type is not null && depth < 32; depth++, type = type.BaseType)
            foreach (var field in type.Fields)
                if (field.Name == name) return field;
        return null;
    }
}
