using System.Buffers.Binary;
using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// How one type of explicit frame other than a P/Invoke's leads back to managed code, learned from the DAC's walks.
/// Two shapes exist. A stub or helper (PrestubMethodFrame, DynamicHelperFrame, StubDispatchFrame...) saved a block on
/// entry, which a field of the Frame points to: the callee-saved registers, RBP last, then the return address into the
/// managed caller, whose stack pointer is just above it. A thread interrupted in managed code (RedirectedThreadFrame
/// for a GC suspension, a faulting or thrown exception) saved a whole register context, pointed to or embedded: the
/// interrupted instruction, its stack pointer, and RBP after it. Which shape, which field and which offsets are voted
/// on over observations (<see cref="LayoutVotes{T}"/>), and so is the method the frame names (a MethodDesc field, or none).
/// </summary>
sealed class TransitionLayout
{
    const int FrameScanBytes = 0x40;
    const int BlockScanBytes = 0x200;
    const int Embedded = -1; // the saved registers are in the Frame itself

    /// <param name="Interrupted">A saved context (the caller was interrupted, not calling): A is where its
    /// instruction pointer is, B its stack pointer. Otherwise a saved block: A is where the return address is.</param>
    readonly record struct Place(bool Interrupted, int Field, int A, int B);

    readonly LayoutVotes<Place> _places = new();
    readonly LayoutVotes<int> _methodField = new();
    int _namesMethod, _namesNone;

    public bool IsLearned => _places.IsLearned && (_namesMethod == 0 || (_namesNone == 0 && _methodField.IsLearned));

    public void Learn(ulong frame, ClrMethod? method, RawFrame caller, IWalkMemory memory)
    {
        Span<byte> fields = stackalloc byte[FrameScanBytes];
        var read = memory.Read(frame, fields);
        var found = new List<Place>();
        Span<byte> block = stackalloc byte[BlockScanBytes];
        for (var field = Embedded; field < read; field = field == Embedded ? 16 : field + 8)
        {
            if (field != Embedded && field + 8 > read) break;
            var pointer = field == Embedded ? frame : BinaryPrimitives.ReadUInt64LittleEndian(fields[field..]);
            if (pointer == 0 || pointer > caller.StackPointer + 0x10000 || pointer + 0x10000 < frame) continue; // saved on this stack
            var blockRead = memory.Read(pointer, block);
            for (var at = 0; at + 8 <= blockRead; at += 8)
            {
                if (BinaryPrimitives.ReadUInt64LittleEndian(block[at..]) != caller.InstructionPointer) continue;
                if (pointer + (ulong)at + 8 == caller.StackPointer && at >= 8) found.Add(new Place(false, field, at, 0));
                for (var sp = 0; sp + 8 <= blockRead; sp += 8)
                    if (BinaryPrimitives.ReadUInt64LittleEndian(block[sp..]) == caller.StackPointer) found.Add(new Place(true, field, at, sp));
            }
        }
        // A saved block explains the caller exactly (its stack pointer is the block's own address); a stack pointer value
        // that merely appears in it too is a coincidence, and voting for both would tie.
        _places.Observe(found.Exists(p => !p.Interrupted) ? found.Where(p => !p.Interrupted) : found);

        if (method is null) { _namesNone++; return; }
        _namesMethod++;
        var methodFields = new List<int>();
        for (var field = 16; field + 8 <= read; field += 8)
            if (BinaryPrimitives.ReadUInt64LittleEndian(fields[field..]) == method.MethodDesc) methodFields.Add(field);
        _methodField.Observe(methodFields);
    }

    /// <param name="methods">Methods the DAC named, by MethodDesc: a frame naming one not met yet is left to the DAC.</param>
    public (UnwindContext Caller, bool Interrupted, ClrMethod? Method)? Read(ulong frame, IWalkMemory memory, IReadOnlyDictionary<ulong, ClrMethod> methods)
    {
        if (!IsLearned || !_places.Learned(out var place)) return null;
        var pointer = frame;
        if (place.Field != Embedded && !memory.TryReadPointer(frame + (ulong)place.Field, out pointer)) return null;
        UnwindContext caller;
        if (place.Interrupted)
        {
            if (!memory.TryReadPointer(pointer + (ulong)place.A, out var ip) || !memory.TryReadPointer(pointer + (ulong)place.B, out var sp)
                || !memory.TryReadPointer(pointer + (ulong)place.B + 8, out var fp)) return null;
            caller = new UnwindContext(ip, sp, fp);
        }
        else
        {
            var returnAt = pointer + (ulong)place.A;
            if (!memory.TryReadPointer(returnAt, out var returnAddress) || !memory.TryReadPointer(returnAt - 8, out var fp)) return null;
            caller = new UnwindContext(returnAddress, returnAt + 8, fp);
        }
        ClrMethod? method = null;
        if (_namesMethod > 0)
        {
            if (!_methodField.Learned(out var field) || !memory.TryReadPointer(frame + (ulong)field, out var methodDesc) || !methods.TryGetValue(methodDesc, out method))
                return null;
        }
        return (caller, place.Interrupted, method);
    }
}
