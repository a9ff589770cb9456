using System.Buffers.Binary;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// The OS thread id a runtime Thread object holds, read from the object itself: for a thread Snapper has not listed
/// through ClrMD yet (the list is read again only when a snapshot walks with the DAC, and a service starts pool threads
/// all the time), named as the holder of a lock. Where in the object the id is kept is learned from threads whose ids
/// are known: the one offset at which each of them holds its own id.
/// </summary>
sealed class ThreadObjectIds(ProcessMemory memory)
{
    const int BytesSearched = 0x400;
    const int ThreadsToAgree = 3;

    int _offset = -1;
    bool _cannotLearn;

    /// <param name="known">Thread objects whose OS thread ids are known (to learn from).</param>
    /// <returns>The OS thread id in the Thread object at <paramref name="thread"/>, or null.</returns>
    public int? Of(ulong thread, IEnumerable<(ulong Address, int Tid)> known)
    {
        if (_offset < 0 && !_cannotLearn) Learn(known);
        if (_offset < 0) return null;
        Span<byte> id = stackalloc byte[4];
        return memory.ReadUncached(thread + (ulong)_offset, id) == 4 && BinaryPrimitives.ReadInt32LittleEndian(id) is var tid and > 0 ? tid : null;
    }

    void Learn(IEnumerable<(ulong Address, int Tid)> known)
    {
        var threads = known.Where(t => t.Address != 0 && t.Tid > 0).Take(ThreadsToAgree * 2).ToList();
        if (threads.Count < ThreadsToAgree) return; // asked again when more threads are known
        HashSet<int>? common = null;
        var bytes = new byte[BytesSearched];
        foreach (var (address, tid) in threads)
        {
            if (memory.ReadUncached(address, bytes) < BytesSearched) return;
            var here = new HashSet<int>();
            for (var offset = 0; offset + 4 <= BytesSearched; offset += 4)
                if (BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset)) == tid) here.Add(offset);
            if (common is null) common = here;
            else common.IntersectWith(here);
        }
        // One place only: two would leave it to chance which is the id.
        if (common is { Count: 1 }) _offset = common.First();
        else _cannotLearn = true;
    }
}
