namespace Snapper.Sampling.Linux;

/// <summary>
/// The target's memory as the decisions that a stack is unchanged read it (StackMemoryHash, for stack reuse). A seam
/// so that those decisions, which corrupt a profile silently when wrong, are unit tested on synthetic memory
/// (StackReuseDecisionTests) as well as end to end. <see cref="ProcessMemory"/> is the real one. Reads never throw: what cannot
/// be read comes back short.
/// </summary>
interface ITargetMemory
{
    /// <summary>Through the snapshot's page cache: for memory of a thread stopped now.</summary>
    int Read(ulong address, Span<byte> buffer);

    /// <summary>Straight from the target: for memory of a thread that may have run since the cache was filled.</summary>
    int ReadUncached(ulong address, Span<byte> buffer);

    /// <summary>Several ranges, one after another into <paramref name="buffer"/>; short at the first range not fully mapped.</summary>
    int ReadUncached(List<(ulong From, int Extent)> ranges, Span<byte> buffer);
}
