namespace Snapper.Sampling;

/// <summary>
/// Turns each thread's cumulative CPU time into the CPU it used since its previous sample: the exact,
/// kernel-counted time that a CPU-weighted profile spreads over the stacks seen. A thread's first sample counts 0
/// (there is nothing to subtract).
/// <para>
/// CPU is conserved: the clock advances only by what a kept sample carries (<see cref="Settle"/>). A thread read but
/// not kept in a snapshot (the snapshot failed, the thread was skipped while warming up, its walk failed) keeps its
/// CPU for its next sample, so a thread's samples add up to its CPU time between its first and last sample.
/// </para>
/// </summary>
sealed class ThreadClock
{
    /// <summary>Per thread, the run time up to which its CPU has been carried by kept samples.</summary>
    readonly Dictionary<int, ulong> _charged = new();

    /// <summary>This snapshot's readings, until <see cref="Settle"/> charges the kept ones.</summary>
    readonly Dictionary<int, ulong> _read = new();

    /// <summary>Forgets the readings of a snapshot that was never settled (it failed).</summary>
    public void BeginSnapshot() => _read.Clear();

    public long CpuSinceLastSample(int tid, ulong? runTimeNs)
    {
        if (runTimeNs is not { } now) return 0;
        _read[tid] = now;
        return _charged.TryGetValue(tid, out var last) && now >= last ? (long)(now - last) : 0;
    }

    /// <summary>
    /// Charges what the kept samples carry. A sample that carries less than its thread's reading says (a reused idle
    /// stack counts 0) leaves the rest for the next one; a thread's first sample, or a new thread under a reused id
    /// (its run time went back), starts the count at its reading.
    /// </summary>
    public void Settle(IEnumerable<ThreadStack> kept)
    {
        foreach (var stack in kept)
        {
            if (!_read.TryGetValue(stack.OsThreadId, out var now)) continue;
            _charged[stack.OsThreadId] = _charged.TryGetValue(stack.OsThreadId, out var last) && now >= last
                ? last + (ulong)Math.Max(0, stack.CpuNs)
                : now;
        }
        _read.Clear();
    }

    public void Retain(HashSet<int> live)
    {
        _charged.KeepOnly(live);
    }
}
