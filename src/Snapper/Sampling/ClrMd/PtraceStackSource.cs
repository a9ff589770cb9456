using System.Diagnostics;
using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Async;
using Snapper.Sampling.ClrMd.Async;
using Snapper.Sampling.Linux;
using Snapper.Store;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// The fast engine: one DataTarget and ClrRuntime for the whole capture, over Snapper's own reader, with Snapper
/// stopping and resuming the threads itself. Per snapshot: list threads, decide which can have changed (see
/// <see cref="StackReuse"/>), stop only those in parallel, flush caches, walk them, resume; naming happens after
/// the resume. Use from one OS thread only (ptrace is per tracer thread).
/// </summary>
sealed class PtraceStackSource : IStackSource
{
    public bool KnowsRunState => true;

    /// <summary>Threads found to have no managed identity are not stopped again until this much time passes.</summary>
    static readonly TimeSpan NativeThreadRecheck = TimeSpan.FromSeconds(10);

    readonly TargetProcess _process;
    readonly int _maxFrames;
    readonly ThreadStopper _stopper;
    readonly ThreadIds _ids;
    readonly ProcessMemory _memory;
    readonly DataTarget _dataTarget;
    readonly ClrRuntime _runtime;
    readonly ClrRuntime? _names; // see CodeMap
    readonly FrameResolver _resolver;
    readonly RuntimeStubs _stubs;
    readonly ILOffsets _ilOffsets;
    readonly RunningStackReuse _running;
    readonly List<RawThread> _reusedRunning = new();
    readonly List<RawThread> _reusedUnstopped = new();
    readonly MovedSinceSurvey _movedSinceSurvey = new();
    readonly ReuseVerification? _verification;
    readonly List<(int Tid, ThreadActivity Activity)> _preempted = new();
    readonly List<RawThread?> _preemptedReused = new();
    readonly Dictionary<int, ThreadStack> _lastIdle = new();
    readonly ThreadIdentities _identities;
    readonly ThreadClock _clock = new();
    readonly SyscallHistory _syscallHistory = new();
    readonly IThreadSurvey _survey;
    readonly StackReuse _reuse;
    readonly StackMemoryHash _stackHash;
    readonly NativeLeafRecovery _recovery;
    readonly FastWalk.FastWalking? _fast;
    readonly UnstoppedWalks? _unstopped;
    readonly WalkReadSets? _readSets;
    readonly HashSet<int> _refusedUnstopped = []; // this snapshot's threads whose walks need the DAC: stopped
    // Surveys before the stops: the second checks the first round of walks without a stop and takes again what moved or
    // left its CPU; the third checks those (see SurveyAgainBeforeTheStops).
    const int SurveyRounds = 2;
    bool _walkUnstoppedNow; // see TakeUnstopped
    readonly Dictionary<int, ClrThread> _clrThreadByTid = new();
    readonly Action _ensureDacFresh;
    bool _dacFresh; // see EnsureDacFresh
    readonly ThreadStacks _threadStacks;
    readonly Func<ClrThread, (ulong Low, ulong High)> _stackRange;
    readonly Unwind.NativeUnwinder? _unwinder;
    readonly Unwind.NativeModules _nativeModules;
    readonly HashSet<uint> _stoppedTids = new(); // this snapshot's, walked or not
    readonly HashSet<uint> _heldTids = new(); // those held now (see WalkThoseHeld)
    readonly Dictionary<int, ulong> _stoppedSp = new();
    readonly Dictionary<int, long> _stoppedSyscall = new();
    readonly Dictionary<int, bool> _stoppedAsleep = new(); // stopped in a system call: whether the stop woke it (InterruptedSleep)
    readonly Dictionary<int, (long CpuNs, ThreadActivity Activity)> _beforeStop = new();
    readonly HashSet<int> _nativeThreads = new();
    readonly HashSet<int> _live = new();
    readonly List<int> _toStop = new();
    readonly Dictionary<int, (RawThread Raw, IReadOnlyList<FrameInfo> Frames)> _resolved = new();
    long _nativeThreadsCheckedAt = Stopwatch.GetTimestamp();
    bool _warmingUp;
    bool _realTime; // see HoldAsRealTime
    readonly Action _holdAsRealTime; // made once: a method group passed as a delegate is a new object each time
    long _memoryReadsBefore;
    int[]? _lastTids; // ThreadList hands back the same array while the set of threads is unchanged
    readonly string? _executable;
    bool _checkExecutableAgain; // see CheckExecutable
    System.Collections.Immutable.ImmutableArray<ClrThread> _clrThreads;
    bool _oneStop; // see CaptureAllAtOnce
    bool _sampledLockHolders; // see Open
    readonly LockHolders _lockHolders;
    readonly ThreadObjectIds _threadObjectIds;
    static readonly IReadOnlyDictionary<int, LockWait> NoLockWaits = new Dictionary<int, LockWait>();
    IReadOnlyDictionary<int, LockWait> _heldLockWaits = NoLockWaits; // CaptureAllAtOnce's, read while held
    readonly List<(int Tid, object StackKey)> _lockThreads = new();
    readonly Dictionary<int, (RawThread Raw, ulong Sp)> _walkedForLocks = new();

    TimeSpan? _asyncBudget; // see CaptureAllAtOnce
    long _asyncDeadline;

    /// <summary>The pending async work <see cref="CaptureAllAtOnce"/> found on the heap, when asked for; null otherwise.</summary>
    public PendingAsyncHeap? PendingAsync { get; private set; }

    public string RuntimeVersion { get; }
    public PhaseTimings Timings { get; } = new();

    PtraceStackSource(TargetProcess process, int maxFrames, bool nativeFrames, bool fastWalk)
    {
        _process = process;
        _maxFrames = maxFrames;
        if (ReuseVerification.Enabled) _verification = new ReuseVerification(process.Pid, StackFingerprint);
        _holdAsRealTime = HoldAsRealTime;
        _ensureDacFresh = EnsureDacFresh;
        _threadStacks = new ThreadStacks(process.Pid);
        _stackRange = StackRange;
        _stopper = new ThreadStopper(process.Pid);
        _ids = ThreadIds.For(process.Pid);
        var regions = new ExecutableRegions(process.Pid);
        _nativeModules = new Unwind.NativeModules(regions, process.HostPathOf);
        var frameNames = new Unwind.NativeFrameNames();
        _memory = new ProcessMemory(process.Pid);
        _stubs = new RuntimeStubs(() => _runtime, _ensureDacFresh, _memory);
        _resolver = new FrameResolver(process.HostPathOf, nativeFrames ? frameNames : null, new Unwind.LeafNames(regions, _nativeModules, frameNames, _stubs.NameAt));
        // Asked for at the first frame in recompiled code, long after the runtime below is created.
        _ilOffsets = new ILOffsets(_resolver.MayHaveLines, () => CodeVersionILOffsets.TryCreate(_runtime!), () => _ensureDacFresh());
        SamplerPriority.TryRaise();
        ChildStopSignals.Silence();
        _identities = new ThreadIdentities(process.Pid);
        _executable = ProcFs.ReadExecutable(process.Pid);
        _survey = IThreadSurvey.Open(process.Pid);
        SeedSyscallHistory();
        ProbeTraceable();
        var stackHash = _stackHash = new StackMemoryHash(_memory);
        _reuse = new StackReuse(stackHash);
        _running = new RunningStackReuse(stackHash, _ilOffsets, thread => _fast?.FrameHeadAddressOf(thread) ?? 0);
        var mappings = ProcFs.ReadFileMappings(process.Pid).Select(m => (m.Start, m.Offset, process.HostPathOf(m.Path))).ToList();
        var reader = new PtraceDataReader(process.Pid, _memory, _stopper, mappings, _ids);
        _dataTarget = new DataTarget(reader, RuntimeSession.Options());
        try
        {
            _runtime = RuntimeSession.Create(_dataTarget, process, out var version);
            RuntimeVersion = version;
            _recovery = new NativeLeafRecovery(_runtime, _memory, _stopper, reader, regions);
            _threadObjectIds = new ThreadObjectIds(_memory);
            _lockHolders = new LockHolders(_runtime, _memory, _ensureDacFresh, TidOfThread, TidOfLockOwnerId);
            if (fastWalk)
            {
                _names = RuntimeSession.Create(_dataTarget, process, out _);
                _fast = FastWalk.FastWalking.TryCreate(_runtime, _names, _stopper, _memory, regions, _ensureDacFresh, reader, _ids);
                if (_fast is null)
                {
                    _names.Dispose(); // no fast walk on this runtime: nothing describes methods through it
                    _names = null;
                }
            }
            stackHash.Stopped = _fast?.Memory;
            // The walk's verification compares walks of stopped threads; the native unwinder reads from a stop too.
            if (_fast is not null && UnstoppedWalks.Enabled && !FastWalk.FastWalking.Verify && !nativeFrames)
                _unstopped = new UnstoppedWalks(_fast, _ilOffsets, _recovery, maxFrames, _resolver.AllNamed, _readSets = new WalkReadSets(_memory), _ids);
            if (nativeFrames) _unwinder = new Unwind.NativeUnwinder(regions, _memory, _nativeModules, maxFrames);
        }
        catch
        {
            _dataTarget.Dispose();
            throw;
        }
    }

    /// <summary>Opens a session on the calling thread, which must make every later call.</summary>
    /// <param name="nativeFrames">Also unwind the native frames above the managed ones (see <see cref="Unwind.NativeUnwinder"/>).</param>
    /// <param name="fastWalk">Walk without the DAC where that is proven to give the DAC's frames (see FastWalk).</param>
    /// <param name="lockHolders">Name the holder of each lock a waiting thread is entering, in sampled snapshots (a
    /// <see cref="CaptureAllAtOnce"/> snapshot always does).</param>
    public static PtraceStackSource Open(TargetProcess process, int maxFrames, bool nativeFrames = false, bool fastWalk = true, bool lockHolders = true)
    {
        var source = new PtraceStackSource(process, maxFrames, nativeFrames, fastWalk) { _sampledLockHolders = lockHolders };
        try
        {
            source.WarmUp();
            return source;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A first snapshot, thrown away, of the blocked threads only. The first walk of a session is slow (Snapper's
    /// and ClrMD's code is compiled, the DAC's caches are cold, thread names are read: 50-90 ms measured on a
    /// 13-thread target), and a snapshot stops every thread it walks for that long. A blocked thread loses nothing
    /// by being held a while longer, so it pays; the running threads are first stopped once everything is warm.
    /// </summary>
    void WarmUp()
    {
        SamplingCode.Compile();
        _warmingUp = true;
        try
        {
            Capture();
        }
        catch (SnapshotFailedException)
        {
            // Nothing to warm up with (no thread blocked, say): the first real snapshot pays instead.
        }
        finally
        {
            _warmingUp = false;
            Timings.Reset();
            _memoryReadsBefore = _memory.SyscallCount;
        }
    }

    /// <summary>
    /// Notes what every thread is blocked in before Snapper first stops them: after a stop, a timed wait shows only as
    /// restart_syscall (see <see cref="SyscallHistory"/>).
    /// </summary>
    void SeedSyscallHistory()
    {
        foreach (var tid in _survey.Take())
            _syscallHistory.Resolve(tid, _survey.Activity(tid).Syscall);
    }

    /// <summary>One stop and resume before anything else, so a missing privilege or a racing tracer fails fast and clearly.</summary>
    void ProbeTraceable()
    {
        var tids = ProcFs.ListThreads(_process.Pid);
        var stopped = _stopper.StopAll(tids);
        _stopper.ResumeAll();
        if (stopped > 0) return;
        if (!ProcFs.ProcessExists(_process.Pid))
            throw new TargetRefusedException(TargetProblem.NoSuchProcess, $"process {_process.Pid} ({_process.Name}) exited");
        if (_stopper.LastSeizeErrno == Native.EPERM)
        {
            _process.EnsureNotTraced(); // a tracer that attached since the check
            throw TargetProcess.PermissionDenied(_process.Pid, _process.Name);
        }
        throw new TargetRefusedException(TargetProblem.NoSuchProcess, $"could not stop any thread of process {_process.Pid} ({_process.Name})");
    }

    /// <summary>
    /// One snapshot of every managed thread from one stop (<c>snapper dump</c>): every thread is stopped, all are held until
    /// the last one has stopped and every stack is walked, and nothing is taken from earlier snapshots. The holder of the
    /// lock each blocked thread is entering is read while all are held (<see cref="ThreadStack.WaitsFor"/>). The pause
    /// is the whole hold.
    /// </summary>
    /// <param name="asyncBudget">Also walk the GC heap for pending async work (<see cref="PendingAsync"/>) while every
    /// thread is held, stopping the walk once this much time has passed since the snapshot began: the hold ends then.</param>
    public CapturedSnapshot CaptureAllAtOnce(TimeSpan? asyncBudget = null)
    {
        _oneStop = true;
        _asyncBudget = asyncBudget;
        _asyncDeadline = Stopwatch.GetTimestamp() + (long)(AsyncWalkBudget.StopWalkingAfter(asyncBudget ?? TimeSpan.Zero).TotalSeconds * Stopwatch.Frequency);
        PendingAsync = null;
        try
        {
            return Capture();
        }
        finally
        {
            _oneStop = false;
            _asyncBudget = null;
        }
    }

    public CapturedSnapshot Capture()
    {
        try
        {
            return CaptureOnce();
        }
        catch (Exception e) when (e is not TargetExitedException and not SnapshotFailedException and not TargetRefusedException)
        {
            // Thrown outside the stop (naming threads, settling CPU clocks): this snapshot failed, with its cause
            // kept, so that the sampler can tell a bug of Snapper's from the target's doing (see SnapperBugs).
            throw FailedOrGone(e.Message, e);
        }
    }

    CapturedSnapshot CaptureOnce()
    {
        Timings.Start();
        _reuse.LinesGeneration = _running.LinesGeneration = _resolver.LinesGeneration;
        if (_unstopped is not null) _unstopped.LinesGeneration = _resolver.LinesGeneration;
        _verification?.NoteSwitches(_lastTids ?? ProcFs.ListThreads(_process.Pid));
        var tids = _survey.Take();
        Timings.Mark(PhaseTimings.Phase.SurveyThreads);
        if (tids.Length == 0)
            throw new TargetExitedException($"process {_process.Pid} exited");
        var threads = new List<ThreadStack>(tids.Length);
        _clock.BeginSnapshot();
        _stoppedTids.Clear();
        _stoppedSp.Clear();
        _stoppedSyscall.Clear();
        _stoppedAsleep.Clear();
        _unstopped?.Clear();
        _heldLockWaits = NoLockWaits; // not a new dictionary a snapshot: only a dump fills it
        _dacFresh = false; // the target ran since the last snapshot: code compiled since is not in the DAC's caches
        _walkUnstoppedNow = _unstopped is not null && !_warmingUp && !_oneStop && _survey.SurveysAtOnce && !_clrThreads.IsDefault;
        ChooseThreadsToStop(tids, threads);
        if (_toStop.Count == 0 || _walkUnstoppedNow) ReusePreempted(interruptOthers: false);
        Timings.Mark(PhaseTimings.Phase.Choose);
        var start = Stopwatch.GetTimestamp();
        var pause = TimeSpan.Zero;
        // The threads taken without a stop are copied and walked before any thread is asked to stop: a walk done while
        // others were held (or on their way into their stops) made the pause as long as the walk, and the walk's tail
        // (a code lookup, a collection in Snapper) made the pause p99 15-30 ms on a loaded web service.
        _refusedUnstopped.Clear();
        if (_unstopped is { Any: true }) WalkUnstopped();
        if (_toStop.Count > 0 || _unstopped is { Walked.Count: > 0 }) SurveyAgainBeforeTheStops(threads);
        var raw = _toStop.Count > 0 || _verification is not null ? StopAndWalk(threads, ref start, out pause) : [];
        Timings.CountUnstopped(_reusedUnstopped.Count);
        raw.AddRange(_reusedUnstopped);
        if (_unstopped is not null)
        {
            Timings.CountWalkedUnstopped(_unstopped.Walked.Count);
            raw.AddRange(_unstopped.Walked.Select(walked => walked.Thread));
        }
        FaultInjection.AfterWalks();
        if (raw.Count > 0)
        {
            LearnStubs(raw);
            _identities.Update(_runtime, raw, _ensureDacFresh);
            NameAndRemember(raw, threads);
        }
        if (!_oneStop && _sampledLockHolders) NameLockHolders(threads, raw);
        LeaveRealTime(); // when nothing was stopped: see CaptureDueSoon
        _clock.Settle(threads);
        _memory.RefreshLasting();
        Timings.Mark(PhaseTimings.Phase.Name);
        Timings.MemoryReads = _memory.SyscallCount - _memoryReadsBefore;
        Timings.EndSnapshot();
        // Threads that entered their stops after an earlier snapshot gave up on them were held too (see LetGoLateStops).
        return new CapturedSnapshot(start, pause + _stopper.TakeLaggardsHeld(), threads);
    }

    public TimeSpan? LetGoLateStops()
    {
        _stopper.ReleaseLaggards();
        return _stopper.HasLaggards ? ThreadStopper.LaggardPollInterval : null;
    }

    /// <summary>The runtime's stub heaps are read again for a thread found in generated code none of them was known to hold.</summary>
    void LearnStubs(List<RawThread> raw)
    {
        foreach (var thread in raw)
            if (thread.LeafAddress != 0 && thread.NativeLeafModule is { } module && Linux.ExecutableRegions.IsGeneratedCode(module))
                _stubs.LearnIfUnknown(thread.LeafAddress);
    }

    /// <summary>
    /// Stops the chosen threads, walks them and resumes them; <paramref name="pause"/> is how long they were held. They are
    /// all asked at once and stop in parallel; those that stopped are walked and let go before the sampler waits for the
    /// rest (see ThreadStopper.WaitForStops), so a thread on its way into its stop holds no other.
    /// </summary>
    List<RawThread> StopAndWalk(List<ThreadStack> threads, ref long start, out TimeSpan pause)
    {
        List<RawThread> raw = [];
        try
        {
            start = Stopwatch.GetTimestamp();
            _stopper.Begin();
            foreach (var tid in _toStop) _stopper.Interrupt(tid);
            ReusePreempted(interruptOthers: true); // while the interrupted threads make their way into their stops
            if (_verification is not null) AskReusedToStopToo(threads, _verification);
            var stoppedAny = false;
            if (_oneStop) stoppedAny = WalkAllHeldTogether(raw);
            else
                while (_stopper.WaitForStops(_holdAsRealTime) > 0)
                {
                    stoppedAny = true;
                    WalkThoseHeld(raw);
                    _stopper.ReleaseStopped();
                    Timings.Mark(PhaseTimings.Phase.Resume);
                }
            // Nothing stopped because each thread asked had exited or was still on its way into an earlier snapshot's stop
            // (a laggard, not asked again): the snapshot goes on without them, as it does when others stopped. It failed
            // ("no thread could be stopped") about once in a 30 s capture of ShopService under wrk. A refusal to trace
            // (another tracer attached since) still fails it.
            if (!stoppedAny && _stopper.LastSeizeErrno != 0) throw FailedOrGone("no thread could be stopped", null);
        }
        catch (Exception e) when (e is not TargetExitedException and not SnapshotFailedException)
        {
            throw FailedOrGone(e.Message, e);
        }
        finally
        {
            // Resume no matter what happened above (a second call is a no-op: the stopped list is empty).
            pause = _stopper.ResumeAll();
            LeaveRealTime();
        }
        Timings.Mark(PhaseTimings.Phase.Resume);
        return raw;
    }

    /// <summary>
    /// <see cref="CaptureAllAtOnce"/>'s stop: waits until every thread asked has stopped (or is past the deadline), walks
    /// them all, and reads the lock holders while they are all still held. Returns whether any stopped.
    /// </summary>
    bool WalkAllHeldTogether(List<RawThread> raw)
    {
        while (_stopper.WaitForStops(_holdAsRealTime) > 0)
        {
        }
        if (_stopper.Stopped.Count == 0) return false;
        WalkThoseHeld(raw);
        _lockThreads.Clear();
        _walkedForLocks.Clear();
        foreach (var thread in raw)
        {
            _lockThreads.Add((thread.OsThreadId, thread));
            _walkedForLocks[thread.OsThreadId] = (thread, _stoppedSp.GetValueOrDefault(thread.OsThreadId));
        }
        _heldLockWaits = new Dictionary<int, LockWait>(_lockHolders.Find(_lockThreads, _walkedForLocks));
        if (_asyncBudget is { } budget) PendingAsync = WalkHeapForPendingAsync(budget);
        return true;
    }

    /// <summary>
    /// The heap walk of <c>dump --async</c>, while every thread is held (the DAC must not read a heap that changes under
    /// it). An error of the walk's own ends the walk, not the dump: the stacks were read already.
    /// </summary>
    PendingAsyncHeap WalkHeapForPendingAsync(TimeSpan budget)
    {
        var notRead = new HeapWalkCoverage(false, false, 0, 0, 0, 0, 0, TimeSpan.Zero, budget);
        HoldTheRest();
        if (UnheldThread() is { } running)
            return new PendingAsyncHeap([], notRead,
                $"thread {running} was not held (it had not stopped yet, or started during the stop), and the heap is walked only while nothing of the process runs");
        try
        {
            EnsureDacFresh();
            return AsyncHeapWalk.Walk(_runtime, _asyncDeadline, budget);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new PendingAsyncHeap([], notRead, $"the heap walk failed ({e.GetType().Name}: {e.Message})");
        }
    }

    /// <summary>
    /// Stops the threads of the process the snapshot did not (one started since the survey, a native thread the
    /// survey missed: seen under load, a server GC thread), so that nothing of the process runs during the heap walk.
    /// </summary>
    void HoldTheRest()
    {
        if (UnheldThread() is null) return;
        _stopper.RestartDeadline();
        var held = HeldThreads();
        foreach (var tid in ProcFs.ListThreads(_process.Pid))
            if (!held.Contains(tid)) _stopper.Interrupt(tid);
        while (_stopper.WaitForStops(_holdAsRealTime) > 0)
        {
        }
    }

    /// <summary>A thread of the process not held now, if any (read from /proc, not the runtime: it runs no DAC code).</summary>
    int? UnheldThread()
    {
        var held = HeldThreads();
        foreach (var tid in ProcFs.ListThreads(_process.Pid))
            if (!held.Contains(tid)) return tid;
        return null;
    }

    HashSet<int> HeldThreads()
    {
        var held = new HashSet<int>(_stopper.Stopped.Count);
        foreach (var thread in _stopper.Stopped) held.Add(thread.Tid);
        return held;
    }

    /// <summary>
    /// Names the holder of the lock each waiting thread of a sampled snapshot is entering (see <see cref="LockHolders"/>):
    /// after the walks, while the target runs. Threads walked in this snapshot are looked at anew; the others keep the
    /// lock they were found waiting for, while they keep the walk they were found in.
    /// </summary>
    void NameLockHolders(List<ThreadStack> threads, List<RawThread> raw)
    {
        _dacFresh = false; // the threads walked with the DAC run again: what it read of them is stale
        _lockThreads.Clear();
        _walkedForLocks.Clear();
        foreach (var stack in threads) _lockThreads.Add((stack.OsThreadId, stack.Frames));
        foreach (var thread in raw) _walkedForLocks[thread.OsThreadId] = (thread, _stoppedSp.GetValueOrDefault(thread.OsThreadId));
        if (_unstopped is not null)
            foreach (var (thread, registers) in _unstopped.Walked) _walkedForLocks[thread.OsThreadId] = (thread, registers.Rsp);
        var waits = _lockHolders.Find(_lockThreads, _walkedForLocks);
        if (waits.Count == 0) return;
        for (var i = 0; i < threads.Count; i++)
            if (waits.TryGetValue(threads[i].OsThreadId, out var wait)) threads[i] = threads[i] with { WaitsFor = wait };
    }

    /// <summary>
    /// The OS thread id of the runtime's Thread object at <paramref name="address"/>: among the threads last listed, else
    /// read from the object (a thread started since), when that names a thread of the process.
    /// </summary>
    int? TidOfThread(ulong address)
    {
        foreach (var (known, thread) in _clrThreadByTid)
            if (thread.Address == address) return known;
        // The object holds the runtime's id of the thread (see ThreadIds).
        return _threadObjectIds.Of(address, _clrThreadByTid.Select(t => (t.Value.Address, (int)t.Value.OSThreadId))) is { } read
            && (int)_ids.Of((uint)read) is var tid and not 0 && _live.Contains(tid) ? tid : null;
    }

    /// <summary>
    /// The thread a System.Threading.Lock's owner field names: its OS thread id on Linux (.NET 9 and 10), as its runtime
    /// knows it (see ThreadIds); a runtime that keeps the managed thread id there is matched by that.
    /// </summary>
    int? TidOfLockOwnerId(uint id)
    {
        if ((int)_ids.Of(id) is var tid and not 0 && (_clrThreadByTid.ContainsKey(tid) || _live.Contains(tid))) return tid;
        foreach (var (known, thread) in _clrThreadByTid)
            if (thread.ManagedThreadId == id) return known;
        return null;
    }

    /// <summary>Walks the threads held now, and reads all that must be read while they are held; adds the walks to <paramref name="raw"/>.</summary>
    void WalkThoseHeld(List<RawThread> raw)
    {
        Timings.CountStopped(_stopper.Stopped.Count);
        _heldTids.Clear();
        foreach (var thread in _stopper.Stopped)
        {
            _heldTids.Add((uint)thread.Tid);
            _stoppedSp[thread.Tid] = thread.HaveRegisters ? thread.Registers.Rsp : 0;
            // orig_rax holds the syscall a thread was stopped in, and is negative when it was in user code.
            if (thread.HaveRegisters) _stoppedSyscall[thread.Tid] = (long)thread.Registers.OrigRax;
            // Read now: the registers are gone by the time the walks are named, after the resume.
            if (thread.HaveRegisters && (long)thread.Registers.OrigRax >= 0) _stoppedAsleep[thread.Tid] = InterruptedSleep.Of(thread.Registers);
        }
        Timings.Mark(PhaseTimings.Phase.Stop);
        _memory.Flush(); // threads let go a moment ago may have changed what was read
        var walked = WalkStopped();
        _resolver.NameWhileStopped(walked);
        // Before the hashes: only a walk the snapshot keeps may be remembered with this stop's memory. The verification's
        // walk of a thread taken without one is dropped, and the hash of its stop went with the walk kept instead: a timer
        // thread copied while waiting for a CPU at the end of ReleaseSemaphore's futex wake, and stopped back in its wait at
        // the very stack pointer and pc the first survey saw, was remembered with the ReleaseSemaphore walk under the wait's
        // hash, and that walk was then reused while it waited (2 differences in 1 run of 5 of the bursts scenario).
        if (_verification is not null) CompareReused(walked, _verification);
        foreach (var thread in walked)
            _reuse.HashWhileStopped(thread.OsThreadId, _stoppedSp.GetValueOrDefault(thread.OsThreadId),
                _stopper.TryGetRegisters(thread.OsThreadId, out var stoppedAt) ? stoppedAt.Rip : 0, thread.OutermostStackPointer);
        if (_unwinder is not null) UnwindNative(walked, _unwinder);
        _stoppedTids.UnionWith(_heldTids);
        raw.AddRange(walked);
        Timings.Mark(PhaseTimings.Phase.NativeUnwind);
    }

    /// <summary>
    /// The stacks of the stopped threads: walked by the DAC, except those of threads still looping where they were
    /// (see <see cref="RunningStackReuse"/>). When every one is such a thread, the runtime's caches are not even flushed.
    /// </summary>
    List<RawThread> WalkStopped()
    {
        _reusedRunning.Clear();
        foreach (var thread in _stopper.Stopped)
            if (RunningStackReuse.Enabled && !_oneStop && thread.HaveRegisters && _verification?.IsPending(thread.Tid) != true
                && _running.TryReuse(thread.Tid, thread.Registers.Rip, thread.Registers.Rsp) is { } same)
            {
                if (_verification is not null)
                {
                    // Walked all the same, and compared (see ReuseVerification).
                    _verification.Add(thread.Tid, ReuseVerification.RunningKind, null, same, default);
                    continue;
                }
                _reusedRunning.Add(same);
                _heldTids.Remove((uint)thread.Tid);
            }
        Timings.CountReusedRunning(_reusedRunning.Count);
        List<RawThread> walked = [];
        if (_heldTids.Count > 0)
        {
            HoldAsRealTime();
            _dacFresh = false;
            Timings.Mark(PhaseTimings.Phase.Flush);
            var dacWalksBefore = _fast?.DacWalks ?? 0;
            walked = ClrStackWalker.Walk(ClrThreads(), _heldTids.Contains, _maxFrames, _ilOffsets, _ids, _recovery, _fast, _ensureDacFresh, _stackRange);
            Timings.CountDacWalks(_fast is null ? walked.Count : (int)(_fast.DacWalks - dacWalksBefore));
            if (RunningStackReuse.Enabled)
                foreach (var thread in walked)
                    if (_stopper.TryGetRegisters(thread.OsThreadId, out var registers)) _running.Remember(thread, registers);
                    else _running.Forget(thread.OsThreadId);
        }
        else Timings.Mark(PhaseTimings.Phase.Flush);
        Timings.Mark(PhaseTimings.Phase.Walk);
        foreach (var thread in _reusedRunning) _heldTids.Add((uint)thread.OsThreadId); // still to be named, below
        walked.AddRange(_reusedRunning);
        return walked;
    }

    /// <summary>Where a thread's stack lies: from its stack pointer at the stop up to its end, as the runtime knows it
    /// or else from the mapping its stack pointer is in (0 when unknown).</summary>
    (ulong Low, ulong High) StackRange(ClrThread thread)
    {
        var tid = (int)_ids.Of(thread);
        if (!_stopper.TryGetRegisters(tid, out var registers)) return (thread.StackLimit, thread.StackBase);
        var high = thread.StackBase != 0 ? thread.StackBase : _threadStacks.TopOf(tid, registers.Rsp) ?? 0;
        return (registers.Rsp, high);
    }

    /// <summary>
    /// The DAC caches what it read of the target; once the target has run, that is stale. The flush is costly (ClrMD
    /// drops and rebuilds its own caches), so it is done once a snapshot, and only when the DAC is about to be used:
    /// a snapshot the fast walk covers entirely does without it.
    /// </summary>
    void EnsureDacFresh()
    {
        if (_dacFresh) return;
        _runtime.FlushCachedData();
        _dacFresh = true;
    }

    /// <summary>
    /// Makes the sampler a real-time thread until the resume (see <see cref="SamplerPriority"/>) before what could keep
    /// threads held long: a sleep while waiting for stops (a thread stopped meanwhile waits for the sampler to wake up),
    /// or a walk. A stop that needs neither (the thread stopped by the first poll, its stack reused: most samples of a
    /// looping thread) is over in tens of microseconds, too soon to be preempted, and spares the two system calls.
    /// </summary>
    void HoldAsRealTime()
    {
        if (!_realTime) _realTime = SamplerPriority.TryEnterRealTime();
    }

    /// <summary>
    /// The sampler waits for the snapshot's moment as a real-time thread, and stays one through the capture. Woken as a
    /// normal thread, it waited for a CPU the target's running threads had, and waited longest when the target was busy:
    /// 160 µs late at the median on the bursty target, and snapshots found its bursts 0.3-0.4 points (6%) less often
    /// than they ran, while the moments they were due at found them in proportion.
    /// </summary>
    public void CaptureDueSoon() => HoldAsRealTime();

    void LeaveRealTime()
    {
        if (_realTime) SamplerPriority.LeaveRealTime();
        _realTime = false;
    }

    /// <summary>
    /// Adds the native frames of each walked thread stopped in native code, while it is still stopped: its stack
    /// is only valid now. Reads memory through the snapshot's page cache (the walk has read most of those pages).
    /// </summary>
    void UnwindNative(List<RawThread> raw, Unwind.NativeUnwinder unwinder)
    {
        for (var i = 0; i < raw.Count; i++)
        {
            if (!_stopper.TryGetRegisters(raw[i].OsThreadId, out var regs)) continue;
            if (unwinder.Unwind(regs) is { } native) raw[i] = raw[i] with { NativeFrames = native };
        }
    }

    /// <summary>
    /// The runtime's threads. ClrMD re-reads the whole list after every flush (measured ~1.8 ms a sample with 200
    /// threads), yet a ClrThread only names a thread; its stack is read fresh at each walk. So the list is kept
    /// while the set of thread ids stays the same, and re-read when it changes or when native threads are rechecked.
    /// </summary>
    IEnumerable<ClrThread> ClrThreads()
    {
        if (_clrThreads.IsDefault)
        {
            EnsureDacFresh();
            _clrThreads = _runtime.Threads;
            _clrThreadByTid.Clear();
            foreach (var thread in _clrThreads)
                if (thread.IsAlive && _ids.Of(thread) is var tid and not 0) _clrThreadByTid[(int)tid] = thread;
        }
        return _clrThreads;
    }

    /// <summary>Fills <see cref="_toStop"/>; threads whose stacks can be reused go straight into <paramref name="threads"/>.</summary>
    void ChooseThreadsToStop(int[] tids, List<ThreadStack> threads)
    {
        _toStop.Clear();
        _beforeStop.Clear();
        _reusedUnstopped.Clear();
        _movedSinceSurvey.Clear();
        if (!ReferenceEquals(tids, _lastTids)) ThreadSetChanged(tids);
        else if (_checkExecutableAgain)
        {
            _checkExecutableAgain = false;
            CheckExecutable();
        }
        if (Stopwatch.GetElapsedTime(_nativeThreadsCheckedAt) > NativeThreadRecheck)
        {
            // A native thread can become managed (a callback into .NET): look at every thread again now and then.
            _nativeThreads.Clear();
            _nativeThreadsCheckedAt = Stopwatch.GetTimestamp();
            _clrThreads = default;
        }
        foreach (var tid in tids)
        {
            // A dump's heap walk needs the runtime's native threads held too: a background collection's thread
            // sweeping the heap while the DAC walks it would change it under the DAC.
            if (_nativeThreads.Contains(tid) && _asyncBudget is null) continue;
            var runTime = _survey.RunTime(tid);
            var cpu = _clock.CpuSinceLastSample(tid, runTime);
            if (_oneStop)
            {
                var now = _survey.Activity(tid);
                if (now.Gone) _survey.Invalidate();
                else
                {
                    _beforeStop[tid] = (cpu, now);
                    _toStop.Add(tid);
                }
                continue;
            }
            // Asked of every thread, even one whose run time has not moved: the kernel brings a thread's run time up to
            // date at ticks and deschedules, not while a freshly woken thread runs, so only its state and syscall tell
            // that it moved (see StackReuse.TryReuseIdle).
            var activity = _survey.Activity(tid);
            if (_reuse.TryReuseIdle(tid, runTime, activity) is { } idle)
            {
                threads.Add(IdleStack(tid, idle));
                _movedSinceSurvey.Note(tid, runTime, activity, cpu);
                continue;
            }
            if (activity.Gone)
            {
                _survey.Invalidate(); // and perhaps another started: list again next time
                continue;
            }
            if (_reuse.TryReuse(tid, activity, runTime) is { } stack)
            {
                threads.Add(stack with
                {
                    Identity = _identities.Of(tid),
                    Activity = SampleActivity.Syscall,
                    Syscall = _syscallHistory.Resolve(tid, activity.Syscall),
                    CpuNs = cpu,
                    Runnable = false, // asleep where it was: it has not run
                });
                _movedSinceSurvey.Note(tid, runTime, activity, cpu);
            }
            else if (activity.Preempted && RunningStackReuse.Enabled && !_warmingUp)
            {
                _preempted.Add((tid, activity)); // see ReusePreempted
                _beforeStop[tid] = (cpu, activity);
                _movedSinceSurvey.Note(tid, runTime, activity, cpu);
            }
            else if (!(_warmingUp && activity.Running))
            {
                _beforeStop[tid] = (cpu, activity);
                if (TakeUnstopped(tid)) _movedSinceSurvey.Note(tid, runTime, activity, cpu);
                else _toStop.Add(tid);
            }
        }
    }

    /// <summary>
    /// A running thread waiting for a CPU is exactly where its registers say until it runs again: when that is still in
    /// the loop it was walked in (see <see cref="RunningStackReuse"/>), its stack is known without stopping it. The others
    /// are stopped: at once when other threads are being stopped (<paramref name="interruptOthers"/>), else added to
    /// <see cref="_toStop"/>.
    /// </summary>
    void ReusePreempted(bool interruptOthers)
    {
        if (_preempted.Count == 0) return;
        _running.TryReuseUnstopped(_preempted, _preemptedReused);
        for (var i = 0; i < _preempted.Count; i++)
        {
            var tid = _preempted[i].Tid;
            if (_preemptedReused[i] is { } same)
                _reusedUnstopped.Add(same);
            else if (interruptOthers)
                _stopper.Interrupt(tid);
            else if (!TakeUnstopped(tid))
                _toStop.Add(tid);
        }
        _preempted.Clear();
    }

    /// <summary>SNAPPER_VERIFY_REUSE: stops every thread this snapshot takes without a walk, to walk it too.</summary>
    void AskReusedToStopToo(List<ThreadStack> threads, ReuseVerification verification)
    {
        verification.Clear();
        foreach (var thread in threads)
        {
            verification.Add(thread.OsThreadId, ReuseVerification.SleepingKind, thread.Frames, null, _movedSinceSurvey.AtSurvey(thread.OsThreadId).Activity);
            _stopper.Interrupt(thread.OsThreadId);
        }
        foreach (var thread in _reusedUnstopped)
        {
            verification.Add(thread.OsThreadId, ReuseVerification.PreemptedKind, null, thread, _beforeStop[thread.OsThreadId].Activity);
            _stopper.Interrupt(thread.OsThreadId);
        }
        if (_unstopped is null) return;
        foreach (var (thread, registers) in _unstopped.Walked)
        {
            // Where the walk started from: the stop must find the thread there, else it ran since (and is not compared).
            var atSurvey = new ThreadActivity((long)registers.OrigRax < 0, registers.Rsp, registers.Rip, Preempted: (long)registers.OrigRax < 0);
            verification.Add(thread.OsThreadId, ReuseVerification.UnstoppedKind, null, thread, atSurvey);
            _stopper.Interrupt(thread.OsThreadId);
        }
    }

    /// <summary>SNAPPER_VERIFY_REUSE: a hash of a thread's stack in use (from <paramref name="sp"/> to the top of its mapping), read from the target now.</summary>
    ulong? StackFingerprint(int tid, ulong sp) =>
        _threadStacks.MappingOf(tid, sp) is { } stack && stack.End > sp ? _stackHash.Of(sp, (int)Math.Min(stack.End - sp, 1 << 20), cached: false) : null;

    /// <summary>
    /// SNAPPER_VERIFY_REUSE: compares the walks of reused threads with their reused stacks. A thread asleep or waiting for
    /// a CPU keeps its reused stack in the snapshot (its walk is dropped); a looping thread keeps its walk.
    /// </summary>
    void CompareReused(List<RawThread> raw, ReuseVerification verification)
    {
        for (var i = raw.Count - 1; i >= 0; i--)
        {
            var tid = raw[i].OsThreadId;
            if (!verification.IsPending(tid)) continue;
            if (!_stopper.TryGetRegisters(tid, out var registers)) continue;
            if (verification.Compare(tid, raw[i], registers, Resolve) == ReuseVerification.RunningKind) continue;
            raw.RemoveAt(i);
            _heldTids.Remove((uint)tid);
        }
    }

    /// <summary>
    /// Surveys again just before the stops are asked for (see <see cref="MovedSinceSurvey"/>): a thread taken without a
    /// stop that has run since drops its walk and is stopped, so that the snapshot is one moment, that of the stops.
    /// Not after the asks: the threads stopping free their CPUs, and a thread woken before the survey would begin its
    /// burst there and be stopped in it (3 ms bursts every 50 ms were found in 1.1 points more snapshots than they ran in).
    /// <para>
    /// Only a thread on a CPU stops at once; one that waits for a CPU, as a thread woken a moment ago on a loaded machine
    /// does, holds every other stopped thread until it gets one (4-30 ms under wrk on 2 vCPUs). So a thread that ran
    /// since its copy, or one that was to be stopped, and is found off a CPU by this survey, is copied and walked again
    /// from where this survey saw it, and checked by one more survey; only what is on a CPU then, or has run again, or
    /// needs the DAC, is stopped.
    /// </para>
    /// </summary>
    void SurveyAgainBeforeTheStops(List<ThreadStack> threads)
    {
        // Read from /proc, a survey costs two file reads a thread.
        if (!_survey.SurveysAtOnce) return;
        for (var round = 1; ; round++)
        {
            _movedSinceSurvey.Check(_survey);
            var moved = _movedSinceSurvey.Moved;
            Timings.CountMovedSinceSurvey(moved.Count);
            if (moved.Count > 0)
            {
                threads.RemoveAll(thread => moved.Contains(thread.OsThreadId));
                _reusedUnstopped.RemoveAll(thread => moved.Contains(thread.OsThreadId));
                _unstopped?.Drop(moved);
            }
            if (_unstopped is not null) RememberUnstopped();
            var again = round < SurveyRounds && _walkUnstoppedNow;
            foreach (var tid in moved)
            {
                var atSurvey = _movedSinceSurvey.AtSurvey(tid);
                if (again && TakeAgain(tid, atSurvey.CpuNs)) continue;
                _toStop.Add(tid);
                _beforeStop[tid] = atSurvey;
                _stoppedSyscall.Remove(tid); // of a walk without a stop: the stop tells again
            }
            if (again)
                for (var i = _toStop.Count - 1; i >= 0; i--)
                {
                    var tid = _toStop[i];
                    if (moved.Contains(tid) || _refusedUnstopped.Contains(tid) || !_beforeStop.TryGetValue(tid, out var before)) continue;
                    if (TakeAgain(tid, before.CpuNs)) _toStop.RemoveAt(i);
                }
            if (_unstopped is not { Any: true }) return;
            WalkUnstopped();
            if (_unstopped.LastRound.Count == 0) return;
        }
    }

    /// <summary>Takes a thread without a stop from where the last survey saw it, when that survey found it off a CPU.</summary>
    bool TakeAgain(int tid, long cpuNs)
    {
        var now = _survey.Activity(tid);
        if (now.Gone || now.OnCpu || !TakeUnstopped(tid)) return false;
        _movedSinceSurvey.Note(tid, _survey.RunTime(tid), now, cpuNs);
        _beforeStop[tid] = (cpuNs, now);
        return true;
    }

    /// <summary>
    /// Copies and walks the threads taken without a stop since the last round (see <see cref="UnstoppedWalks"/>); those
    /// the copies cannot do are added to the threads to stop (and no longer checked for having moved: they are stopped
    /// either way).
    /// </summary>
    void WalkUnstopped()
    {
        var unstopped = _unstopped!;
        unstopped.CopyAndWalk();
        foreach (var tid in unstopped.Refused)
        {
            _toStop.Add(tid);
            _refusedUnstopped.Add(tid);
            _movedSinceSurvey.Forget(tid);
        }
        Timings.Mark(PhaseTimings.Phase.WalkWithoutStop);
    }

    /// <summary>What a reused stack needs remembered of the last round's walks that stand, hashed from their copies.</summary>
    void RememberUnstopped()
    {
        var stopped = _stackHash.Stopped;
        _stackHash.Stopped = _fast!.SealedMemory;
        foreach (var (thread, registers) in _unstopped!.LastRound)
        {
            var tid = thread.OsThreadId;
            _stoppedSyscall[tid] = (long)registers.OrigRax;
            // Taken from its last walk, the thread's stack was not copied: there is nothing to hash it from (a hash of it
            // as it is now could be of a later moment, and would be remembered with this walk).
            if (_unstopped.TakenAgain.Contains(tid))
            {
                _reuse.NotHashed(tid);
                continue;
            }
            _reuse.HashWhileStopped(tid, registers.Rsp, registers.Rip, thread.OutermostStackPointer);
            if (RunningStackReuse.Enabled) _running.Remember(thread, registers);
        }
        _stackHash.Stopped = stopped;
    }

    /// <summary>
    /// Takes a thread that is not on a CPU to be walked without a stop (see <see cref="UnstoppedWalks"/>), when this
    /// snapshot can: a survey that reads registers, ClrMD's thread list already read (reading it needs the threads
    /// stopped), not warming up (the first walks teach the fast walk from the DAC's).
    /// </summary>
    bool TakeUnstopped(int tid)
    {
        if (!_walkUnstoppedNow || !_clrThreadByTid.TryGetValue(tid, out var thread) || thread.Address == 0 || !_survey.TryRegisters(tid, out var registers)
            || _threadStacks.MappingOf(tid, registers.Rsp) is not { } stack)
            return false;
        _unstopped!.Add(thread, registers, stack);
        return true;
    }

    /// <summary>
    /// A thread that has not run: the same stack and syscall, no CPU. While its identity and syscall stay put this is the
    /// very same object as at the last sample: most threads of a process just wait, and each sample allocated one for each.
    /// </summary>
    ThreadStack IdleStack(int tid, ThreadStack remembered)
    {
        var identity = _identities.Of(tid);
        var syscall = _syscallHistory.Resolve(tid, remembered.Syscall);
        if (_lastIdle.TryGetValue(tid, out var last) && ReferenceEquals(last.Frames, remembered.Frames) && ReferenceEquals(last.Identity, identity)
            && last.Syscall == syscall && last.Activity == remembered.Activity)
            return last;
        return _lastIdle[tid] = remembered with { Identity = identity, Syscall = syscall, CpuNs = 0, Runnable = false };
    }

    /// <summary>Forgets what belonged to threads that are gone; ClrMD's thread list is read again at the next walk.</summary>
    void ThreadSetChanged(int[] tids)
    {
        CheckExecutable();
        _checkExecutableAgain = true;
        _lastTids = tids;
        _clrThreads = default;
        _live.Clear();
        _live.UnionWith(tids);
        _survey.Retain(_live);
        _threadStacks.Retain(_live);
        _reuse.Retain(_live);
        _running.Retain(_live);
        _identities.Retain(_live);
        _clock.Retain(_live);
        _syscallHistory.Retain(_live);
        _nativeThreads.IntersectWith(_live);
        _resolved.KeepOnly(_live);
        _lastIdle.KeepOnly(_live);
        _fast?.Retain(_live);
        _readSets?.Retain(_live);
        _lockHolders.Retain(_live);
    }

    /// <summary>
    /// exec() replaces every thread with one running another program: the .NET process Snapper sampled is gone. The
    /// other threads are gone a moment before the program is replaced (exec ends them first), so a change in the set
    /// of threads is followed by a second look at the next sample: at 500 Hz a sample fell in between, and the lone
    /// thread of the new program, asleep, went on being sampled as the old one's.
    /// </summary>
    void CheckExecutable()
    {
        if (_executable is not null && ProcFs.ReadExecutable(_process.Pid) is { } now && now != _executable)
            throw new TargetExitedException($"process {_process.Pid} exec'd {now}: it is no longer the .NET program that was sampled");
    }

    /// <summary>
    /// A snapshot that could not be taken: the target is gone, or became another program (exec, seen here too: the
    /// thread-set check can run while /proc/pid/exe is still unreadable mid-exec, and then every later walk fails on a
    /// process that is not .NET any more), or this one snapshot failed and the next may not.
    /// </summary>
    Exception FailedOrGone(string message, Exception? cause)
    {
        if (!ProcFs.ProcessExists(_process.Pid)) return new TargetExitedException($"process {_process.Pid} exited");
        CheckExecutable();
        return new SnapshotFailedException(message, cause);
    }

    /// <summary>
    /// Whether a thread in a system call at this snapshot was running (in the kernel, or woken) rather than asleep: the
    /// survey saw it runnable (R, not S or D), and, if it was stopped, the stop did not wake it out of a sleep (see
    /// <see cref="InterruptedSleep"/>). Either saying asleep makes it asleep: a thread in an uninterruptible disk read
    /// (D) stops only once the read is done, and returns the read's own result.
    /// </summary>
    bool RunnableInSyscall(int tid, ThreadActivity survey) =>
        survey != ThreadActivity.Unknown && survey.Running && !survey.Gone && !(_stoppedAsleep.TryGetValue(tid, out var asleep) && asleep);

    void NameAndRemember(List<RawThread> raw, List<ThreadStack> threads)
    {
        foreach (var thread in raw)
        {
            var tid = thread.OsThreadId;
            var (cpu, before) = _beforeStop.GetValueOrDefault(tid, (0, ThreadActivity.Unknown));
            var (activity, syscall) = WalkedThreadActivity.Of(thread, _stoppedSyscall.TryGetValue(tid, out var origRax) ? origRax : null, before, _syscallHistory);
            var stack = new ThreadStack(tid, _identities.Of(tid), Resolve(thread))
            {
                Activity = activity,
                Syscall = syscall,
                CpuNs = cpu,
                Runnable = activity == SampleActivity.Syscall && RunnableInSyscall(tid, before),
                WaitsFor = _heldLockWaits.GetValueOrDefault(tid),
            };
            threads.Add(stack);
            _reuse.Remember(thread.OsThreadId, stack.WaitsFor is null ? stack : stack with { WaitsFor = null }); // its lock is read at each snapshot
            _stoppedTids.Remove((uint)thread.OsThreadId);
        }
        // Stopped, but no managed thread: a native thread (the runtime's own, or the app's). Leave it alone.
        foreach (var tid in _stoppedTids) _nativeThreads.Add((int)tid);
    }

    /// <summary>
    /// A running thread still looping where it was comes back as the same walk (see <see cref="RunningStackReuse"/>):
    /// its frames are named once, and the store recognises the very same list without hashing it again.
    /// </summary>
    IReadOnlyList<FrameInfo> Resolve(RawThread thread)
    {
        if (_resolved.TryGetValue(thread.OsThreadId, out var last) && ReferenceEquals(last.Raw, thread)) return last.Frames;
        var frames = _resolver.Resolve(thread);
        _resolved[thread.OsThreadId] = (thread, frames);
        return frames;
    }

    public void Dispose()
    {
        if ((FastWalk.FastWalking.Verify || DebugSwitch.Enabled) && _fast is not null) Console.Error.WriteLine(_fast.Summary());
        if (DebugSwitch.Enabled) Console.Error.WriteLine(_lockHolders.Summary());
        if (DebugSwitch.Enabled) Console.Error.WriteLine(_stubs.Summary());
        if (_verification is not null) Console.Error.WriteLine(_verification.Summary());
        if (ClrStackWalker.VerifyDacFrames) Console.Error.WriteLine(ClrStackWalker.DacFramesSummary());
        _stopper.ReleaseAll();
        _resolver.Dispose();
        _nativeModules.Dispose();
        _survey.Dispose();
        _identities.Dispose();
        _names?.Dispose();
        _runtime.Dispose();
        _dataTarget.Dispose();
        _memory.Dispose();
    }
}
