using Snapper.Store;

namespace Snapper.Report.Tests;

/// <summary>Builds a <see cref="Profile"/> in memory the way the store would: interned frames, a stack prefix tree, samples per snapshot.</summary>
sealed class ProfileBuilder
{
    readonly Dictionary<int, FrameInfo> _frames = new();
    readonly Dictionary<FrameInfo, int> _frameIds = new();
    readonly Dictionary<int, StackNode> _stacks = new();
    readonly Dictionary<(int Parent, int Frame), int> _stackIds = new();
    readonly List<ThreadInfo> _threads = new();
    readonly List<Sample> _samples = new();
    readonly Dictionary<int, int> _nextSequence = new();
    readonly Dictionary<int, int> _weights = new();
    readonly List<LockInfo> _locks = new();
    readonly List<LockWaitSample> _lockWaits = new();

    /// <summary>The session read the kernel's run state: a blocked "lock/wait" sample's CPU goes to its own CPU-only sample too.</summary>
    public bool KnowsRunState { get; set; }

    public static readonly DateTime Start = new(2025, 1, 31, 14, 5, 9, 250, DateTimeKind.Utc);

    public static FrameInfo Managed(string type, string method, string module = "DemoApp.dll", int line = 0) =>
        new(FrameKind.Managed, module, type, method, line == 0 ? null : "Program.cs", line);

    public static FrameInfo Framework(string type, string method) => new(FrameKind.Managed, "System.Private.CoreLib.dll", type, method);

    public static FrameInfo Transition(string method) => new(FrameKind.Transition, "", "", method);

    public static FrameInfo Native(string method, string module = "libcoreclr.so") => new(FrameKind.Native, module, "", method);

    public ThreadInfo Thread(int id, string? name, int osThreadId = 0, int managedThreadId = 0, string? osName = null, string? role = null)
    {
        var thread = new ThreadInfo(id, osThreadId == 0 ? 1000 + id : osThreadId, managedThreadId == 0 ? id : managedThreadId, name, osName, role);
        _threads.Add(thread);
        return thread;
    }

    /// <summary>Interns a stack, outermost frame first; returns its leaf id (0 for none).</summary>
    public int Stack(params FrameInfo[] outermostFirst)
    {
        var parent = 0;
        foreach (var frame in outermostFirst)
        {
            if (!_frameIds.TryGetValue(frame, out var frameId))
            {
                frameId = _frames.Count + 1;
                _frameIds[frame] = frameId;
                _frames[frameId] = frame;
            }
            if (!_stackIds.TryGetValue((parent, frameId), out var node))
            {
                node = _stacks.Count + 1;
                _stackIds[(parent, frameId)] = node;
                _stacks[node] = new StackNode(node, parent, frameId);
            }
            parent = node;
        }
        return parent;
    }

    /// <summary>Adds <paramref name="count"/> samples of a thread, each in the thread's next snapshot.</summary>
    public ProfileBuilder Sample(ThreadInfo thread, int stackId, int count = 1, SampleState state = SampleState.Unknown, long cpuNs = 0)
    {
        var activity = state switch
        {
            SampleState.Cpu => SampleActivity.ManagedCode,
            SampleState.Unknown => SampleActivity.Unknown,
            _ => SampleActivity.Syscall,
        };
        for (var i = 0; i < count; i++)
        {
            var sequence = _nextSequence.GetValueOrDefault(thread.Id) + 1;
            _nextSequence[thread.Id] = sequence;
            _samples.Add(new Sample(sequence, thread.Id, stackId, state, activity, activity == SampleActivity.Syscall ? 202 : -1, cpuNs));
        }
        return this;
    }

    /// <summary>Adds a sample of a thread in snapshot <paramref name="sequence"/> (its later samples follow that snapshot).</summary>
    public ProfileBuilder SampleAt(int sequence, ThreadInfo thread, int stackId, SampleState state, long cpuNs = 0)
    {
        var activity = state == SampleState.Cpu ? SampleActivity.ManagedCode : SampleActivity.Syscall;
        _nextSequence[thread.Id] = Math.Max(_nextSequence.GetValueOrDefault(thread.Id), sequence);
        _samples.Add(new Sample(sequence, thread.Id, stackId, state, activity, activity == SampleActivity.Syscall ? 202 : -1, cpuNs));
        return this;
    }

    /// <summary>Snapshot <paramref name="sequence"/> stands for <paramref name="weight"/> intervals (an overhead budget lowered the rate).</summary>
    public ProfileBuilder Weigh(int sequence, int weight)
    {
        _weights[sequence] = weight;
        return this;
    }

    public LockInfo Lock(LockKind kind, string typeName, ulong address)
    {
        var info = new LockInfo(_locks.Count + 1, kind, typeName, address);
        _locks.Add(info);
        return info;
    }

    /// <summary>The waiter's sample in snapshot <paramref name="sequence"/> was blocked entering the lock, held by <paramref name="owner"/>.</summary>
    public ProfileBuilder Wait(int sequence, ThreadInfo waiter, LockInfo lockInfo, ThreadInfo? owner)
    {
        _lockWaits.Add(new LockWaitSample(sequence, waiter.Id, lockInfo.Id, owner?.Id));
        return this;
    }

    /// <summary>Leaves a thread out of its next <paramref name="snapshots"/> snapshots, as if it had not run yet or had exited.</summary>
    public ProfileBuilder Skip(ThreadInfo thread, int snapshots = 1)
    {
        _nextSequence[thread.Id] = _nextSequence.GetValueOrDefault(thread.Id) + snapshots;
        return this;
    }

    public Profile Build(SessionEndReason endReason = SessionEndReason.CountReached, string? endMessage = null, bool ended = true)
    {
        var snapshotCount = _nextSequence.Count == 0 ? 0 : _nextSequence.Values.Max();
        // Deterministic pauses between 0.5 and 5 ms, 10 ms apart: enough to exercise the formatting.
        var snapshots = Enumerable.Range(1, snapshotCount)
            .Select(s => new Snapshot(s, (s - 1) * 10_000L, 500 + (s * 7919 % 4500), s % 50 == 0, _weights.GetValueOrDefault(s, 1))).ToList();
        var samples = _samples.OrderBy(s => s.Sequence).ThenBy(s => s.ThreadId)
            .Select(s => s with { Weight = _weights.GetValueOrDefault(s.Sequence, 1) }).ToList();
        var target = new SessionTarget(4242, "DemoApp", "dotnet DemoApp.dll --port 8080", "10.0.1", "build-agent-7", "ptrace",
            100, 512, "snapper record --pid 4242") { KnowsRunState = KnowsRunState };
        var session = new SessionInfo(7, target, Start, ended ? Start.AddSeconds(12.5) : null, endReason, endMessage,
            snapshots.Count, snapshots.Count(s => s.Late), 1, samples.Count, 99.25, new PauseStats(840, 2_100, 4_987));
        // As the store's reader does: the CPU of blocked samples goes to "[ran between samples]".
        var frames = new Dictionary<int, FrameInfo>(_frames);
        var stacks = new Dictionary<int, StackNode>(_stacks);
        return new Profile
        {
            Session = session,
            Frames = frames,
            Stacks = stacks,
            Threads = _threads,
            Snapshots = snapshots,
            Samples = BetweenSamples.Split(samples, stacks, frames, _ => session.Target.KnowsRunState),
            Locks = _locks,
            LockWaits = _lockWaits.OrderBy(w => w.Sequence).ThenBy(w => w.ThreadId).ToList(),
        };
    }
}
