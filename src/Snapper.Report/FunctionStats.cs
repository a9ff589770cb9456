using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// How often one method was seen. <see cref="Self"/>: samples whose innermost frame is this method.
/// <see cref="Total"/>: samples with this method anywhere on the stack, counted once per sample even when it recurses.
/// The CPU figures sum the CPU time those same samples carry.
/// </summary>
public sealed record FunctionStats(MethodIdentity Method, long Self, long Total, long SelfCpuNs = 0, long TotalCpuNs = 0);

/// <summary>
/// One thread's samples (one per snapshot it was seen in, empty stacks and idle ones included), how many of them
/// were in each state (indexed by <see cref="SampleState"/>), and the CPU time it used over the capture.
/// </summary>
public sealed record ThreadStats(ThreadInfo Thread, long Samples, long CpuNs, IReadOnlyList<long> SamplesByState)
{
    public long SamplesIn(SampleState state) => SamplesByState[(int)state];

    // By value, state counts included (a record would compare the list by reference).
    public bool Equals(ThreadStats? other) =>
        other is not null && Thread == other.Thread && Samples == other.Samples && CpuNs == other.CpuNs
        && SamplesByState.SequenceEqual(other.SamplesByState);

    public override int GetHashCode() => HashCode.Combine(Thread, Samples, CpuNs);
}
