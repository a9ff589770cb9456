namespace Snapper.Sampling.Async;

/// <summary>
/// How much of <c>--async-budget</c> (counted from the start of the dump's stop) the heap walk may start work in. The
/// rest is left for the one step it cannot cut short: ClrMD describing a state machine type it meets for the first time
/// (it finds a generic field's type by name across the modules), measured at up to ~90 ms on ShopService. A tenth of the
/// budget, at least 100 ms, at most half of it.
/// </summary>
public static class AsyncWalkBudget
{
    static readonly TimeSpan LeastMargin = TimeSpan.FromMilliseconds(100);

    public static TimeSpan StopWalkingAfter(TimeSpan budget)
    {
        var margin = budget / 10 > LeastMargin ? budget / 10 : LeastMargin;
        return budget - (margin < budget / 2 ? margin : budget / 2);
    }
}
