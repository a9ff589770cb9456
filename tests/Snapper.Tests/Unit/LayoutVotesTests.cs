using Snapper.Sampling.ClrMd.FastWalk;

namespace Snapper.Tests.Unit;

public sealed class LayoutVotesTests
{
    [Fact]
    public void A_place_is_learned_from_three_agreeing_observations_and_not_before()
    {
        var votes = new LayoutVotes<int>();
        votes.Observe([0x28]);
        votes.Observe([0x28, 0x40]);
        Assert.False(votes.IsLearned);
        votes.Observe([0x28]);
        Assert.True(votes.Learned(out var place));
        Assert.Equal(0x28, place);
    }

    [Fact]
    public void Observations_that_show_the_value_nowhere_do_not_unlearn_a_place()
    {
        var votes = new LayoutVotes<int>();
        for (var i = 0; i < 5; i++) votes.Observe([0x28]);
        // Frames whose call has returned, walked by the DAC again and again: the field shows nowhere.
        for (var i = 0; i < 50; i++) votes.Observe([]);
        Assert.True(votes.Learned(out var place));
        Assert.Equal(0x28, place);
    }

    [Fact]
    public void Places_that_disagree_are_not_learned()
    {
        var votes = new LayoutVotes<int>();
        for (var i = 0; i < 5; i++) votes.Observe([0x28]);
        for (var i = 0; i < 5; i++) votes.Observe([0x30]);
        Assert.False(votes.IsLearned);
    }
}
