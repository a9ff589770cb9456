using System.Buffers.Binary;
using Snapper.Sampling.ClrMd;

namespace Snapper.Tests.Unit;

/// <summary>
/// The sync-block layout is learned only from descriptions that leave one answer (.NET 10's: the lock state at 0, with
/// the held bit low and waiters counted from bit 6; the holder's OS thread id at 16, left behind by a release), and is
/// dropped for good when a description disagrees with it.
/// </summary>
public sealed class SyncBlockLayoutTests
{
    const ulong Thread = 0x55ac_96b0_4210;

    /// <summary>A .NET 10 sync block: state, recursion, holder's OS thread id, then words that happen to be odd or even.</summary>
    static byte[] Block(uint state, uint holderTid)
    {
        var block = new byte[SyncBlockLayout.Bytes];
        BinaryPrimitives.WriteUInt32LittleEndian(block, state);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(block.AsSpan(16), holderTid);
        BinaryPrimitives.WriteUInt64LittleEndian(block.AsSpan(24), 0x8000_0005_0000_0003);
        BinaryPrimitives.WriteUInt64LittleEndian(block.AsSpan(32), 0x130);
        return block;
    }

    static SyncBlockData Described(bool held, int waiters, ulong holder) =>
        new(0x7f00_0000_1000, 0, 0x55ac_0000_0000, 0, (held ? 1u : 0u) + 2u * (uint)waiters, held ? 1u : 0u, holder, 0, 0, 9);

    [Fact]
    public void Learned_from_a_lock_seen_held_and_free_it_reads_state_and_holder()
    {
        var layout = new SyncBlockLayout();
        layout.Learn(Block(0xc1, 7435), Described(held: true, waiters: 3, Thread), 7435);
        Assert.Null(layout.Read(Block(0xc1, 7435))); // never seen free: words that stayed odd are not ruled out yet
        layout.Learn(Block(0x80, 7435), Described(held: false, waiters: 2, Thread), null);

        Assert.Equal((true, 7436UL, true), layout.Read(Block(0x41, 7436)));
        // Released: the holder's id stays behind, the state says free.
        Assert.Equal((false, 7436UL, true), layout.Read(Block(0x40, 7436)));
    }

    [Fact]
    public void A_holder_found_in_two_words_teaches_nothing()
    {
        var layout = new SyncBlockLayout();
        var ambiguous = Block(0xc1, 7435);
        BinaryPrimitives.WriteUInt64LittleEndian(ambiguous.AsSpan(40), 7435);
        layout.Learn(ambiguous, Described(held: true, waiters: 3, Thread), 7435);
        layout.Learn(Block(0x80, 7435), Described(held: false, waiters: 2, Thread), null);
        Assert.Null(layout.Read(Block(0x41, 7436)));
        // A later, unambiguous block teaches it.
        layout.Learn(Block(0x41, 7436), Described(held: true, waiters: 1, Thread), 7436);
        Assert.Equal((true, 7436UL, true), layout.Read(Block(0x41, 7436)));
    }

    [Fact]
    public void A_description_that_disagrees_drops_the_layout_for_good()
    {
        var layout = new SyncBlockLayout();
        layout.Learn(Block(0xc1, 7435), Described(held: true, waiters: 3, Thread), 7435);
        layout.Learn(Block(0x80, 7435), Described(held: false, waiters: 2, Thread), null);
        Assert.NotNull(layout.Read(Block(0x41, 7436)));

        // The DAC names another holder than the word learned holds: the layout was wrong.
        layout.Learn(Block(0x41, 7436), Described(held: true, waiters: 1, Thread), 9999);
        Assert.Null(layout.Read(Block(0x41, 7436)));
        layout.Learn(Block(0x41, 7436), Described(held: true, waiters: 1, Thread), 7436);
        Assert.Null(layout.Read(Block(0x41, 7436)));
    }
}
