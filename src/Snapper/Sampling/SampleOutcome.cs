using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>What the sampling loop hands to the writer: a snapshot with its place in the schedule.</summary>
public sealed record TimedSnapshot(int Sequence, long OffsetUs, bool Late, CapturedSnapshot Snapshot);

/// <summary>
/// How a sampling loop ended. <paramref name="Failed"/> counts the snapshots a live target made fail;
/// <paramref name="InternalErrors"/> the ones lost to Snapper's own bugs, per reason (see <see cref="SnapperBugs"/>).
/// </summary>
public sealed record SamplerResult(SessionEndReason Reason, string? Message, int Taken, int Late, int Failed, IReadOnlyList<InternalError> InternalErrors);
