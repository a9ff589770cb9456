namespace Snapper.Sampling;

/// <summary>
/// SNAPPER_FAIL_WALK_EVERY=n, for tests only: every n-th snapshot fails once its threads are walked (and any it stopped
/// resumed), before they are named and remembered, as a bug there would. What a failed snapshot leaves behind must not
/// reach the next one (FailedSnapshotTests); a real failure of this kind cannot be made to happen on demand.
/// </summary>
static class FaultInjection
{
    static readonly int FailWalkEvery = int.TryParse(Environment.GetEnvironmentVariable("SNAPPER_FAIL_WALK_EVERY"), out var every) ? every : 0;
    static int _walks;

    /// <exception cref="SnapshotFailedException">This snapshot is one to fail.</exception>
    public static void AfterWalks()
    {
        if (FailWalkEvery > 0 && ++_walks % FailWalkEvery == 0)
            throw new SnapshotFailedException("injected failure", new InvalidOperationException("injected failure after the walks (SNAPPER_FAIL_WALK_EVERY)"));
    }
}
