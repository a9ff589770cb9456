using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>A hash of a range of the target's stack memory, for telling whether a stack can have changed since a walk.</summary>
sealed class StackMemoryHash(ProcessMemory memory)
{
    byte[] _buffer = new byte[16 * 1024];

    /// <param name="cached">Read through the snapshot's page cache (the thread is stopped now), or straight from the
    /// target (a thread not stopped: a cached page could be from before it ran).</param>
    public int Of(ulong from, int extent, bool cached)
    {
        if (_buffer.Length < extent) _buffer = new byte[Math.Max(extent, _buffer.Length * 2)];
        var span = _buffer.AsSpan(0, extent);
        var read = cached ? memory.Read(from, span) : memory.ReadUncached(from, span);
        var hash = new HashCode();
        hash.AddBytes(span[..read]);
        hash.Add(read);
        return hash.ToHashCode();
    }
}
