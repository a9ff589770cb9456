using System.Buffers.Binary;
using System.Numerics;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Where a runtime's sync block keeps its Monitor's lock state and holder, learned from the DAC's descriptions of real
/// sync blocks and the blocks' memory read with them (not from a header file: the layout changes between runtimes;
/// .NET 10 keeps the holder's OS thread id, and leaves it behind on release, so only the state tells a free lock).
/// <para>
/// The state is the one 32-bit word whose low bit was the lock's held bit in every description (a lock seen both held
/// and free rules out the words that merely stayed odd or even); the holder, the one 64-bit word that equalled the
/// holder's Thread object or OS thread id. Until both are known from unambiguous blocks, and whenever a later
/// description disagrees (then for good), <see cref="Read"/> knows nothing and the DAC is asked.
/// </para>
/// </summary>
sealed class SyncBlockLayout
{
    public const int Bytes = 64;
    const int StateWords = Bytes / 4;

    uint _stateCandidates = (1u << StateWords) - 1; // bit i: the 32-bit word at 4 * i can still be the state
    int _holderOffset = -1;
    bool _holderIsOsThreadId, _seenHeld, _seenFree, _broken;

    bool Known => !_broken && _holderOffset >= 0 && _seenHeld && _seenFree && BitOperations.PopCount(_stateCandidates) == 1;

    /// <summary>
    /// Learns from (or checks against) one description of a sync block and its memory read with it: memory read before
    /// and after the DAC was asked, and the same both times.
    /// </summary>
    /// <param name="holderTid">The OS thread id of the holder the DAC named, when it named one.</param>
    public void Learn(ReadOnlySpan<byte> block, SyncBlockData entry, int? holderTid)
    {
        if (_broken || block.Length < Bytes) return;
        var held = (entry.MonitorHeld & 1) != 0;
        if (Known && Read(block) is { } read && (read.Held != held || held && entry.HoldingThread != 0 && !IsHolder(read.Holder, entry, holderTid)))
        {
            _broken = true;
            return;
        }
        for (var i = 0; i < StateWords; i++)
            if ((BinaryPrimitives.ReadUInt32LittleEndian(block[(4 * i)..]) & 1) != (held ? 1u : 0u)) _stateCandidates &= ~(1u << i);
        if (_stateCandidates == 0) _broken = true;
        if (!held)
        {
            _seenFree = true;
            return;
        }
        _seenHeld = true;
        if (entry.HoldingThread == 0 || _holderOffset >= 0) return;
        int? found = null;
        var isTid = false;
        for (var offset = 0; offset < Bytes; offset += 8)
        {
            var word = BinaryPrimitives.ReadUInt64LittleEndian(block[offset..]);
            if (!IsHolder(word, entry, holderTid)) continue;
            if (found is not null) return; // two candidates: learned from another block
            found = offset;
            isTid = word != entry.HoldingThread;
        }
        if (found is { } at)
        {
            _holderOffset = at;
            _holderIsOsThreadId = isTid;
        }
    }

    static bool IsHolder(ulong word, SyncBlockData entry, int? holderTid) => word == entry.HoldingThread || holderTid is { } tid && word == (ulong)tid;

    /// <summary>The lock's state and holder word read from its memory, once the layout is known; else null.</summary>
    public (bool Held, ulong Holder, bool HolderIsOsThreadId)? Read(ReadOnlySpan<byte> block)
    {
        if (!Known || block.Length < Bytes) return null;
        var state = BinaryPrimitives.ReadUInt32LittleEndian(block[(4 * BitOperations.TrailingZeroCount(_stateCandidates))..]);
        return ((state & 1) != 0, BinaryPrimitives.ReadUInt64LittleEndian(block[_holderOffset..]), _holderIsOsThreadId);
    }
}
