using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>One thread's stack in one snapshot, outermost frame first.</summary>
public sealed record ThreadStack(int OsThreadId, int ManagedThreadId, string? Name, IReadOnlyList<FrameInfo> Frames);

/// <summary>
/// Every managed thread's stack read while the target was stopped. <see cref="StartTicks"/> is the
/// <see cref="System.Diagnostics.Stopwatch"/> timestamp of the first stop; <see cref="Pause"/> runs from there to the last resume.
/// </summary>
public sealed record CapturedSnapshot(long StartTicks, TimeSpan Pause, IReadOnlyList<ThreadStack> Threads);
