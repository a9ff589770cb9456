using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Takes the stacks of threads that are not on a CPU without stopping them. A thread asleep in a syscall, or runnable
/// and waiting for a CPU, resumes with the user registers the kernel saved when it entered the kernel, and the survey
/// reads those (<see cref="IThreadSurvey.TryRegisters"/>); its stack, and the word of its Thread naming its innermost
/// runtime Frame, change only when it runs. So they are copied right after the first survey (one system call for all)
/// and walked from the copies alone (<see cref="CopyAndWalk"/>, <see cref="FastWalk.FastWalking.TryWalkSealed"/>)
/// before any thread is asked to stop; then the threads are surveyed again (<see cref="MovedSinceSurvey"/>): a thread
/// not on a CPU whose switch count is unchanged has not run in between (to run it must have been switched on, and so
/// off again, or be on a CPU now), so its copy is what a stop would have found. One that ran drops its walk; if that
/// survey finds it off a CPU again, it is taken again in a second round from there (so is a thread that was to be
/// stopped and has left its CPU), else it is stopped and walked with the threads that had to be stopped; so is one
/// whose walk needs the DAC. On a loaded web service most threads that changed stacks since the last sample wait for a
/// CPU at the next: stopping one meant waiting for it to get a CPU, and holding all while each was walked. Walking the
/// copies while the stops were on their way held the stopped threads as long as the walk took (its tail, a code lookup
/// or a collection in Snapper, made the pause p99 15-30 ms there), so nothing is held while they are walked.
/// SNAPPER_UNSTOPPED_WALK=off stops them as before (for comparison).
/// </summary>
/// <param name="canName">Whether a walk's methods can all be named without the DAC (named before): one that brings a
/// method first seen is refused, and its thread stopped, so that the DAC reads the method's type with the target
/// stopped (see FrameResolver.NameWhileStopped).</param>
/// <param name="readSets">Takes a thread's last walk again without a copy when what that walk read is unchanged.</param>
sealed class UnstoppedWalks(FastWalk.FastWalking fast, ILOffsets ilOffsets, NativeLeafRecovery recovery, int maxFrames, Func<RawThread, bool> canName,
    WalkReadSets readSets, ThreadIds ids)
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("SNAPPER_UNSTOPPED_WALK") != "off";

    /// <summary>The <see cref="FrameResolver.LinesGeneration"/> of this snapshot: a walk remembered at another is done again.</summary>
    public int LinesGeneration { get; set; }

    /// <summary>Threads of <see cref="Walked"/> taken from their last walk (see <see cref="WalkReadSets"/>): no copy of their stacks was made.</summary>
    public HashSet<int> TakenAgain { get; } = [];

    readonly List<(ulong Address, int Length)> _reads = [];
    readonly List<(ClrThread Thread, Native.UserRegs Registers, ulong StackLow, ulong StackHigh)> _toWalk = [];

    readonly List<(ClrThread Thread, Native.UserRegs Registers, ulong StackLow, ulong StackHigh)> _candidates = []; // of the round to come
    readonly List<(ClrThread, ulong, ulong, ulong)> _copies = [];

    /// <summary>The threads walked this snapshot (those dropped since left out).</summary>
    public List<(RawThread Thread, Native.UserRegs Registers)> Walked { get; } = [];

    /// <summary>Those of <see cref="Walked"/> walked in the last round: the sealed copies are theirs.</summary>
    public List<(RawThread Thread, Native.UserRegs Registers)> LastRound { get; } = [];

    /// <summary>The threads the last round's copies could not do: they are stopped and walked.</summary>
    public List<int> Refused { get; } = [];

    /// <summary>Threads are waiting for a round.</summary>
    public bool Any => _candidates.Count > 0;

    public void Clear()
    {
        TakenAgain.Clear();
        _candidates.Clear();
        Walked.Clear();
        LastRound.Clear();
        Refused.Clear();
    }

    /// <summary>A thread to take without a stop, with the registers the survey read for it and the mapping of its stack.</summary>
    public void Add(ClrThread thread, in Native.UserRegs registers, (ulong Low, ulong High) stack) => _candidates.Add((thread, registers, stack.Low, stack.High));

    /// <summary>
    /// A round: copies what each thread added since the last round will read of it (one system call for all), and walks
    /// it from the copies. A thread walked in an earlier round and added again (it ran since) replaces its earlier walk.
    /// </summary>
    public void CopyAndWalk()
    {
        LastRound.Clear();
        Refused.Clear();
        _copies.Clear();
        _toWalk.Clear();
        foreach (var candidate in _candidates)
        {
            var (thread, registers, low, high) = candidate;
            var tid = (int)ids.Of(thread);
            Walked.RemoveAll(walked => walked.Thread.OsThreadId == tid);
            TakenAgain.Remove(tid);
            if (readSets.TryReuse(thread, tid, registers, LinesGeneration) is { } same)
            {
                LastRound.Add((same, registers));
                TakenAgain.Add(tid);
                continue;
            }
            _toWalk.Add(candidate);
            _copies.Add((thread, registers.Rsp, low, high));
        }
        if (_toWalk.Count > 0) fast.CopySealed(_copies);
        foreach (var (thread, registers, _, high) in _toWalk)
        {
            var tid = (int)ids.Of(thread);
            fast.StartRecordingSealed(_reads);
            var walked = ClrStackWalker.WalkUnstopped(thread, (uint)tid, registers, high, maxFrames, ilOffsets, fast, recovery);
            fast.StopRecordingSealed();
            if (walked is not null && canName(walked))
            {
                LastRound.Add((walked, registers));
                // A walk that looked for its managed caller under native code scanned words whose meaning can change.
                if (walked.NativeLeafModule is null) readSets.Remember(walked, registers, LinesGeneration, _reads, fast.SealedMemory);
                else readSets.Forget(tid);
            }
            else
            {
                Refused.Add(tid);
                readSets.Forget(tid);
            }
        }
        Walked.AddRange(LastRound);
        _candidates.Clear();
    }

    /// <summary>Leaves out the walks of threads that ran since their copies (they are stopped or taken again instead).</summary>
    public void Drop(IReadOnlySet<int> moved)
    {
        TakenAgain.ExceptWith(moved);
        Walked.RemoveAll(walked => moved.Contains(walked.Thread.OsThreadId));
        LastRound.RemoveAll(walked => moved.Contains(walked.Thread.OsThreadId));
    }
}
