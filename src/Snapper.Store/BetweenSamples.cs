namespace Snapper.Store;

/// <summary>
/// Where CPU time goes, the one rule: a sample carries the CPU time its thread used since its previous sample, charged
/// to the stack seen, except when the thread was asleep at that snapshot (sleeping, in I/O, waiting on a lock or parked
/// idle: it ran and went back to waiting between two snapshots): then to a <c>[ran between samples]</c> frame of that
/// thread, never to the stack it was waiting in.
/// <para>
/// Applied as a profile is loaded, so stores written before the rule follow it too: such a blocked sample keeps its
/// wall-clock count and its stack with no CPU, and its CPU moves to a sample of its own in the same snapshot that
/// counts CPU only (<see cref="SampleActivity.BetweenSamples"/>, <see cref="Sample.Wall"/> 0). Samples of unknown
/// state (stores older than states) keep their CPU where it is; so do "lock/wait" samples of sessions written before
/// Snapper read the kernel's run state (<see cref="SessionTarget.KnowsRunState"/>), where "lock/wait" also holds
/// threads running in system calls Snapper cannot name.
/// </para>
/// </summary>
public static class BetweenSamples
{
    public const string FrameName = "[ran between samples]";

    /// <summary>The rule in the words the reports and docs/threads-and-cpu.md use.</summary>
    public const string Rule = "each sample carries the CPU time its thread used since its previous sample, on the stack seen, "
        + "except when the thread was asleep at that snapshot (sleeping, in I/O, waiting on a lock or parked idle: it ran "
        + "between two snapshots): then on a \"" + FrameName + "\" frame of that thread";

    /// <summary>
    /// The samples with each blocked sample's CPU split off, in the same order (the CPU-only sample right after its
    /// blocked one). Adds the frame and its one-frame stack to <paramref name="frames"/> and <paramref name="stacks"/>
    /// under ids after the largest there, only when some sample needs them.
    /// </summary>
    /// <param name="lockWaitIsAsleep">Whether a "lock/wait" sample's thread was asleep (its session read the kernel's
    /// run state); by snapshot sequence, for a profile of several sessions.</param>
    public static List<Sample> Split(List<Sample> samples, Dictionary<int, StackNode> stacks, Dictionary<int, FrameInfo> frames,
        Func<int, bool> lockWaitIsAsleep)
    {
        bool RanWhileBlocked(Sample sample) =>
            sample.CpuNs > 0 && sample.Activity != SampleActivity.BetweenSamples
            && (sample.State is SampleState.Sleep or SampleState.Io or SampleState.IdleThreadPool
                || sample.State == SampleState.LockWait && lockWaitIsAsleep(sample.Sequence));

        if (!samples.Exists(RanWhileBlocked)) return samples;
        var frameId = frames.Count == 0 ? 1 : Math.Max(1, frames.Keys.Max() + 1);
        var stackId = stacks.Count == 0 ? 1 : Math.Max(1, stacks.Keys.Max() + 1);
        frames[frameId] = new FrameInfo(FrameKind.Transition, "", "", FrameName);
        stacks[stackId] = new StackNode(stackId, 0, frameId);
        var split = new List<Sample>(samples.Count + samples.Count / 8);
        foreach (var sample in samples)
        {
            if (!RanWhileBlocked(sample))
            {
                split.Add(sample);
                continue;
            }
            split.Add(sample with { CpuNs = 0 });
            split.Add(new Sample(sample.Sequence, sample.ThreadId, stackId, SampleState.Cpu, SampleActivity.BetweenSamples, -1, sample.CpuNs));
        }
        return split;
    }
}
