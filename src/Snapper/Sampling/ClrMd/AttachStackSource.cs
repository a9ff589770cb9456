using System.Diagnostics;
using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// The reference engine: ClrMD's own <c>AttachToProcess(pid, suspend: true)</c> for every snapshot. Simple and
/// slow (it attaches thread by thread and re-reads every module); kept to measure the fast engine against and as
/// a fallback.
/// </summary>
sealed class AttachStackSource : IStackSource
{
    readonly TargetProcess _process;
    readonly int _maxFrames;
    readonly FrameResolver _resolver;
    readonly ILOffsets _ilOffsets; // MethodDescs and code stay where they are from one attach to the next
    readonly ThreadIdentities _identities;
    readonly SyscallReader _syscalls;
    readonly RunTimeReader _runTimes;
    readonly ThreadClock _clock = new();
    readonly SyscallHistory _syscallHistory = new();
    readonly Dictionary<int, (long CpuNs, ThreadActivity Activity)> _beforeStop = new();

    public string RuntimeVersion { get; }

    /// <summary>Not broken down: attach, walk and detach are one ClrMD call sequence.</summary>
    public PhaseTimings Timings { get; } = new();

    AttachStackSource(TargetProcess process, int maxFrames)
    {
        _process = process;
        _maxFrames = maxFrames;
        _identities = new ThreadIdentities(process.Pid);
        _syscalls = new SyscallReader(process.Pid);
        _runTimes = new RunTimeReader(process.Pid);
        _resolver = new FrameResolver(process.HostPathOf);
        // A new runtime every sample: no DAC interface outlives one, so code compiled after a method's first version
        // has no lines with this engine (the reference engine; the fast one has them).
        _ilOffsets = new ILOffsets(_resolver.MayHaveLines, () => null);
        using var target = Attach(suspend: false);
        using var runtime = RuntimeSession.Create(target, process, out var version);
        RuntimeVersion = version;
    }

    public static AttachStackSource Open(TargetProcess process, int maxFrames) => new(process, maxFrames);

    public CapturedSnapshot Capture()
    {
        ReadThreadsBeforeStop();
        var start = Stopwatch.GetTimestamp();
        var threads = new List<ThreadStack>();
        try
        {
            using var target = Attach(suspend: true);
            using var runtime = RuntimeSession.Create(target, _process, out _);
            var raw = ClrStackWalker.Walk(runtime.Threads, _ => true, _maxFrames, _ilOffsets, ThreadIds.Same);
            _identities.Update(runtime, raw);
            foreach (var thread in raw)
            {
                var (cpu, before) = _beforeStop.GetValueOrDefault(thread.OsThreadId, (0, ThreadActivity.Unknown));
                // ClrMD holds the thread stopped: /proc/.../syscall then reads its orig_rax, as the ptrace engine's registers do.
                var whileStopped = _syscalls.Read(thread.OsThreadId);
                var (activity, syscall) = WalkedThreadActivity.Of(thread, whileStopped.Running || whileStopped.Gone ? null : whileStopped.Syscall,
                    before, _syscallHistory);
                threads.Add(new ThreadStack(thread.OsThreadId, _identities.Of(thread.OsThreadId), _resolver.Resolve(thread))
                {
                    Activity = activity,
                    Syscall = syscall,
                    CpuNs = cpu,
                });
            }
        }
        catch (TargetRefusedException e) when (e.Problem == TargetProblem.NoSuchProcess)
        {
            throw new TargetExitedException(e.Message);
        }
        catch (Exception e) when (e is not TargetRefusedException)
        {
            if (!Linux.ProcFs.ProcessExists(_process.Pid)) throw new TargetExitedException($"process {_process.Pid} exited");
            throw new SnapshotFailedException(e.Message, e);
        }
        _clock.Settle(threads);
        // Disposing the DataTarget detached: the pause ends here.
        return new CapturedSnapshot(start, Stopwatch.GetElapsedTime(start), threads);
    }

    /// <summary>Each thread's syscall and CPU time, from /proc, just before ClrMD stops the target (the syscall is the fallback).</summary>
    void ReadThreadsBeforeStop()
    {
        _beforeStop.Clear();
        _clock.BeginSnapshot();
        var live = new HashSet<int>(Linux.ProcFs.ListThreads(_process.Pid));
        _syscalls.Retain(live);
        _runTimes.Retain(live);
        _clock.Retain(live);
        _syscallHistory.Retain(live);
        _identities.Retain(live);
        foreach (var tid in live)
            _beforeStop[tid] = (_clock.CpuSinceLastSample(tid, _runTimes.Read(tid)), _syscalls.Read(tid));
    }

    DataTarget Attach(bool suspend)
    {
        try
        {
            return DataTarget.AttachToProcess(_process.Pid, suspend, RuntimeSession.Options());
        }
        catch (ArgumentException)
        {
            throw new TargetRefusedException(TargetProblem.NoSuchProcess, $"process {_process.Pid} ({_process.Name}) exited");
        }
        catch (UnauthorizedAccessException)
        {
            throw TargetProcess.PermissionDenied(_process.Pid, _process.Name);
        }
        catch (ClrDiagnosticsException e) when (e.Message.Contains("PTRACE_ATTACH", StringComparison.Ordinal))
        {
            throw new TargetRefusedException(TargetProblem.AlreadyTraced, $"cannot attach to process {_process.Pid} ({_process.Name}): {e.Message}");
        }
    }

    public void Dispose()
    {
        _resolver.Dispose();
        _identities.Dispose();
        _syscalls.Dispose();
        _runTimes.Dispose();
    }
}
