using System.Buffers.Binary;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// One entry of a function table (x64 RUNTIME_FUNCTION): a function's code and its unwind info, as offsets from a
/// base address (a ReadyToRun image's, or the JIT code heap's). A method has one for its body and one per funclet.
/// </summary>
readonly record struct RuntimeFunction(uint Begin, uint End, uint UnwindData)
{
    public const int Size = 12;

    public static RuntimeFunction Read(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(bytes),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]));
}
