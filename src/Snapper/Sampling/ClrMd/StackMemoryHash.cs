using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>A hash of a range of the target's stack memory, for telling whether a stack can have changed since a walk.</summary>
sealed class StackMemoryHash(ITargetMemory memory)
{
    byte[] _buffer = new byte[16 * 1024];

    /// <summary>What the stopped threads' stacks were read into for the walk (see FastWalk.WalkMemory): reading them
    /// again page by page cost a system call a page.</summary>
    public FastWalk.IWalkMemory? Stopped { get; set; }

    /// <param name="cached">Read through the snapshot's page cache (the thread is stopped now), or straight from the
    /// target (a thread not stopped: a cached page could be from before it ran).</param>
    public ulong Of(ulong from, int extent, bool cached)
    {
        if (_buffer.Length < extent) _buffer = new byte[Math.Max(extent, _buffer.Length * 2)];
        var span = _buffer.AsSpan(0, extent);
        var read = cached ? (Stopped?.Read(from, span) ?? memory.Read(from, span)) : memory.ReadUncached(from, span);
        return HashOf(span[..read]);
    }

    /// <summary>
    /// The hashes of several ranges of a running target's memory (uncached), read in one system call. Should that
    /// read come up short (a range unmapped meanwhile), each range is read on its own, as <see cref="Of"/> would.
    /// </summary>
    public void OfUncached(List<(ulong From, int Extent)> ranges, List<ulong> hashes)
    {
        hashes.Clear();
        var total = 0;
        foreach (var range in ranges) total += range.Extent;
        if (total == 0) return;
        if (_buffer.Length < total) _buffer = new byte[Math.Max(total, _buffer.Length * 2)];
        if (memory.ReadUncached(ranges, _buffer.AsSpan(0, total)) == total)
        {
            var at = 0;
            foreach (var range in ranges)
            {
                hashes.Add(HashOf(_buffer.AsSpan(at, range.Extent)));
                at += range.Extent;
            }
            return;
        }
        foreach (var range in ranges) hashes.Add(Of(range.From, range.Extent, cached: false));
    }

    /// <summary>
    /// 64 bits (XxHash3, with the length mixed in): a reuse decision compares tens of thousands of stacks a second, and
    /// with the 32 bits of HashCode a collision, and so a wrong stack stored, was a matter of days (issue 21).
    /// </summary>
    static ulong HashOf(ReadOnlySpan<byte> bytes) => System.IO.Hashing.XxHash3.HashToUInt64(bytes, seed: bytes.Length);
}
