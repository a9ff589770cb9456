using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>What the sampling loop hands to the writer: a snapshot with its place in the schedule.</summary>
public sealed record TimedSnapshot(int Sequence, long OffsetUs, bool Late, CapturedSnapshot Snapshot);

/// <summary>How a sampling loop ended.</summary>
public sealed record SamplerResult(SessionEndReason Reason, string? Message, int Taken, int Late, int Failed);
