using System.Buffers.Binary;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>The fast walk's view of the target's memory: the snapshot's page cache, read while the threads are stopped.</summary>
sealed class WalkMemory(ProcessMemory memory) : IWalkMemory
{
    public bool TryReadPointer(ulong address, out ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        if (memory.Read(address, bytes) == 8)
        {
            value = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            return true;
        }
        value = 0;
        return false;
    }

    public int Read(ulong address, Span<byte> buffer) => memory.Read(address, buffer);
}
