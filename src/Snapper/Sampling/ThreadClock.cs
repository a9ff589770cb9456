namespace Snapper.Sampling;

/// <summary>
/// Turns each thread's cumulative CPU time into the CPU it used since its previous sample: the exact,
/// kernel-counted time that a CPU-weighted profile spreads over the stacks seen. A thread's first sample counts 0
/// (there is nothing to subtract).
/// </summary>
sealed class ThreadClock
{
    readonly Dictionary<int, ulong> _last = new();

    public long CpuSinceLastSample(int tid, ulong? runTimeNs)
    {
        if (runTimeNs is not { } now) return 0;
        var delta = _last.TryGetValue(tid, out var last) && now >= last ? (long)(now - last) : 0;
        _last[tid] = now;
        return delta;
    }

    public void Retain(HashSet<int> live)
    {
        _last.KeepOnly(live);
    }
}
