using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>What the sampling loop hands to the writer: a snapshot with its place in the schedule.</summary>
/// <param name="Weight">How many requested intervals it stands for (see <see cref="OverheadGovernor"/>).</param>
/// <param name="RateChange">The overhead budget changed the rate just after it (recorded with it).</param>
public sealed record TimedSnapshot(int Sequence, long OffsetUs, bool Late, CapturedSnapshot Snapshot, int Weight = 1, RateChange? RateChange = null);

/// <summary>
/// How a sampling loop ended. <paramref name="Failed"/> counts the snapshots a live target made fail;
/// <paramref name="InternalErrors"/> the ones lost to Snapper's own bugs, per reason (see <see cref="SnapperBugs"/>).
/// </summary>
/// <param name="Overhead">The shares of wall time the capture cost (see <see cref="OverheadGovernor"/>); null before two snapshots.</param>
public sealed record SamplerResult(SessionEndReason Reason, string? Message, int Taken, int Late, int Failed, IReadOnlyList<InternalError> InternalErrors,
    (double Pause, double Cpu)? Overhead = null);
