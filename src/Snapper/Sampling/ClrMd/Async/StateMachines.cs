using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Async;

namespace Snapper.Sampling.ClrMd.Async;

/// <summary>
/// Reads an async method's box: its state machine's type and <c>&lt;&gt;1__state</c>, and the object its current awaiter
/// holds (the compiler clears an awaiter field when the await resumes, so the one set is the await it is suspended at).
/// For one walk only (it holds ClrMD types).
/// </summary>
sealed class StateMachines(ClrHeap heap, IDataReader memory, TaskLayouts layouts)
{
    const string SocketEventArgs = "System.Net.Sockets.SocketAsyncEventArgs";
    readonly Dictionary<ulong, int> _socketOperationOffsets = new(); // by MethodTable; -1: not a socket's event args

    public (AsyncStateMachine? Machine, AwaitedObject? Awaits) Read(ulong box, TaskLayout layout)
    {
        var field = layout.StateMachine!;
        var data = box + (ulong)(memory.PointerSize + field.Offset);
        StateMachineLayout? machine = null;
        if (field.IsValueType)
        {
            if (field.Type is { } inline) machine = layouts.StateMachineOf(inline);
        }
        else
        {
            // A class state machine (Debug builds): the field points to it; its data starts after its MethodTable pointer.
            if (!memory.ReadPointer(data, out var instance) || instance == 0 || heap.GetObjectType(instance) is not { } type) return (null, null);
            machine = layouts.StateMachineOf(type);
            data = instance + (ulong)memory.PointerSize;
        }
        if (machine is null || !memory.Read(data + (ulong)machine.StateOffset, out int state)) return (null, null);
        AwaitedObject? awaits = null;
        foreach (var offset in machine.AwaiterReferenceOffsets)
            if (memory.ReadPointer(data + (ulong)offset, out var awaited) && awaited != 0 && heap.GetObjectType(awaited) is { } awaitedType)
            {
                awaits = new AwaitedObject(awaited, awaitedType.Name ?? "?", SocketOperation(awaited, awaitedType));
                break;
            }
        return (new AsyncStateMachine(machine.TypeName, state), awaits);
    }

    /// <summary>A socket's awaitable event args name the operation under way (SocketAsyncOperation, set when it starts).</summary>
    string? SocketOperation(ulong address, ClrType type)
    {
        if (!_socketOperationOffsets.TryGetValue(type.MethodTable, out var offset))
            _socketOperationOffsets[type.MethodTable] = offset = TaskLayouts.DerivesFrom(type, SocketEventArgs)
                && TaskLayouts.FieldOf(type, "_completedOperation") is { } field ? memory.PointerSize + field.Offset : -1;
        if (offset < 0 || !memory.Read(address + (ulong)offset, out int operation)) return null;
        var name = (System.Net.Sockets.SocketAsyncOperation)operation;
        return Enum.IsDefined(name) ? name.ToString() : null;
    }
}
