using Snapper.Sampling.Async;

namespace Snapper.Tests.Unit;

/// <summary>The heap walk of dump --async stops starting work early enough that its last step still ends within the budget.</summary>
public sealed class AsyncWalkBudgetTests
{
    [Theory]
    [InlineData(1000, 900)]
    [InlineData(200, 100)]
    [InlineData(100, 50)]
    [InlineData(60_000, 54_000)]
    public void The_walk_stops_early_enough_to_leave_room_for_a_step_it_cannot_cut_short(int budgetMs, int walkMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(walkMs), AsyncWalkBudget.StopWalkingAfter(TimeSpan.FromMilliseconds(budgetMs)));
}
