using Snapper.Sampling.Linux;
using Snapper.Store;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// A test mode for every way a snapshot takes a thread's stack without walking it (SNAPPER_VERIFY_REUSE=1): a thread
/// asleep where it was (<see cref="StackReuse"/>), one waiting for a CPU in a loop it was walked in, and one stopped in
/// such a loop (<see cref="RunningStackReuse"/>), and one walked without a stop from a copy (<see cref="UnstoppedWalks"/>).
/// Each is stopped and walked anyway, in the same stop, and the reused
/// stack is compared with the walked one frame by frame. A thread that has provably run since the survey is counted
/// apart, not as a difference: its registers at the stop are not those the reuse relied on, or it was switched off a
/// CPU more than once (the stop itself is one switch) between a look just before the survey and the stop: a thread
/// that woke, ran and went back to sleep at the very same stack pointer and pc (two methods calling Thread.Sleep from
/// frames of one size) shows it only there; or its stack memory, from its stack pointer up, is not what it was when
/// the stop was asked: a thread that got a CPU after the survey and is stopped on it is switched off once, by the stop,
/// and one back in a system call at the very same place from another caller (Kestrel's SocketReceiver.ReceiveAsync and
/// WaitForDataAsync both end in a non-blocking recv from frames of one size) shows it only there. The snapshot keeps
/// the reused stacks, so the capture is otherwise the one a normal run makes. Costly: for tests only.
/// </summary>
/// <param name="stackFingerprint">A hash of a thread's stack memory from a stack pointer up, read from the target now.</param>
sealed class ReuseVerification(int pid, Func<int, ulong, ulong?> stackFingerprint)
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("SNAPPER_VERIFY_REUSE") == "1";

    /// <summary>A reused stack to check against the walk, with what the reuse relied on.</summary>
    public readonly record struct Pending(string Kind, IReadOnlyList<FrameInfo>? Frames, RawThread? Raw, ThreadActivity AtSurvey, ulong? Stack);

    readonly Dictionary<int, Pending> _pending = new();
    readonly Dictionary<string, (long Compared, long Differences, long RanOn)> _byKind = new();
    readonly List<string> _firstDifferences = new();
    readonly Dictionary<int, long> _switchesBeforeSurvey = new();

    /// <summary>Notes each thread's context switches; called just before the survey.</summary>
    public void NoteSwitches(ReadOnlySpan<int> tids)
    {
        _switchesBeforeSurvey.Clear();
        foreach (var tid in tids)
            if (ProcFs.ReadContextSwitches(pid, tid) is { } switches) _switchesBeforeSurvey[tid] = switches;
    }

    public bool IsPending(int tid) => _pending.ContainsKey(tid);

    public void Clear() => _pending.Clear();

    /// <summary>
    /// A thread taken without a stop: asleep (its named frames) or waiting for a CPU (its raw walk). Called before its
    /// stop is asked: its stack memory is read now, to be read again at the stop.
    /// </summary>
    public void Add(int tid, string kind, IReadOnlyList<FrameInfo>? frames, RawThread? raw, ThreadActivity atSurvey) =>
        _pending[tid] = new Pending(kind, frames, raw, atSurvey, kind == RunningKind ? null : stackFingerprint(tid, atSurvey.StackPointer));

    /// <summary>
    /// Compares each pending thread's reused stack with <paramref name="walked"/>, the same thread walked in this stop
    /// (stopped with <paramref name="registers"/>); <paramref name="resolve"/> names raw frames.
    /// </summary>
    /// <returns>The kind of reuse compared, or null when the thread was not pending.</returns>
    public string? Compare(int tid, RawThread walked, in Native.UserRegs registers, Func<RawThread, IReadOnlyList<FrameInfo>> resolve)
    {
        if (!_pending.Remove(tid, out var reused)) return null;
        var counts = _byKind.GetValueOrDefault(reused.Kind);
        counts.Compared++;
        // A looping thread's stack is reused from the very stop it is walked in: nothing to have run since.
        if (reused.Kind != RunningKind && (!reused.AtSurvey.StillAt(registers) || SwitchedSinceSurvey(tid) || StackChanged(tid, reused)))
            counts.RanOn++;
        else
        {
            var expected = reused.Frames ?? resolve(reused.Raw!);
            var actual = resolve(walked);
            if (!expected.SequenceEqual(actual))
            {
                counts.Differences++;
                if (_firstDifferences.Count < 5)
                    _firstDifferences.Add($"{reused.Kind} thread {tid}: {FirstDifference(expected, actual)}; reused [{Describe(expected)}], walked [{Describe(actual)}]");
            }
        }
        _byKind[reused.Kind] = counts;
        return reused.Kind;
    }

    bool StackChanged(int tid, Pending reused) => reused.Stack is null || stackFingerprint(tid, reused.AtSurvey.StackPointer) != reused.Stack;

    /// <summary>Switched off a CPU more than once (once is the stop) since just before the survey, or not known.</summary>
    bool SwitchedSinceSurvey(int tid) =>
        !_switchesBeforeSurvey.TryGetValue(tid, out var before) || ProcFs.ReadContextSwitches(pid, tid) is not { } now || now - before > 1;

    public const string SleepingKind = "asleep", PreemptedKind = "waiting for a CPU", RunningKind = "looping", UnstoppedKind = "walked without a stop";

    static string FirstDifference(IReadOnlyList<FrameInfo> expected, IReadOnlyList<FrameInfo> actual)
    {
        for (var i = 0; i < Math.Min(expected.Count, actual.Count); i++)
            if (expected[i] != actual[i]) return $"frame {i} of {expected.Count}: reused {expected[i]}, walked {actual[i]}";
        return $"reused {expected.Count} frames, walked {actual.Count}";
    }

    static string Describe(IReadOnlyList<FrameInfo> frames) => string.Join(" > ", frames.TakeLast(6).Select(f => f.DisplayName));

    public string Summary()
    {
        long compared = 0, differences = 0, ranOn = 0;
        foreach (var (c, d, r) in _byKind.Values) { compared += c; differences += d; ranOn += r; }
        var kinds = string.Join("; ", _byKind.OrderBy(k => k.Key).Select(k => $"{k.Key}: {k.Value.Compared} compared, {k.Value.Differences} different, {k.Value.RanOn} ran since the survey"));
        var firsts = _firstDifferences.Count > 0 ? "\n  " + string.Join("\n  ", _firstDifferences) : "";
        return $"reuse verification: {compared} reused stacks walked too, {differences} differences, {ranOn} ran since the survey ({kinds}){firsts}";
    }
}
