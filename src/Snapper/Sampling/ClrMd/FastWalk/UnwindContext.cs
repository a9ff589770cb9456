namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// The registers a managed stack walk on x64 needs: where a frame executes, its stack pointer, and RBP, the only
/// register the JIT keeps a frame in. The other callee-saved registers never locate a frame, so they are not tracked.
/// </summary>
readonly record struct UnwindContext(ulong Ip, ulong Sp, ulong Fp);

/// <summary>Reads the stopped target's memory for a walk.</summary>
interface IWalkMemory
{
    bool TryReadPointer(ulong address, out ulong value);

    /// <summary>Fills as much of <paramref name="buffer"/> as is readable; returns the count.</summary>
    int Read(ulong address, Span<byte> buffer);
}
