using System.Diagnostics;
using Microsoft.Diagnostics.Runtime;
using Snapper.Cli;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// The fast engine: one DataTarget and ClrRuntime for the whole capture, over Snapper's own reader, with Snapper
/// stopping and resuming the threads itself. Per snapshot: list threads, stop them all in parallel, flush caches,
/// walk, resume; naming happens after the resume. Use from one OS thread only (ptrace is per tracer thread).
/// </summary>
sealed class PtraceStackSource : IStackSource
{
    readonly TargetProcess _process;
    readonly int _maxFrames;
    readonly ThreadStopper _stopper;
    readonly ProcessMemory _memory;
    readonly DataTarget _dataTarget;
    readonly ClrRuntime _runtime;
    readonly FrameResolver _resolver = new();
    readonly HashSet<uint> _stoppedTids = new();
    readonly ThreadNames _names;

    public string RuntimeVersion { get; }

    PtraceStackSource(TargetProcess process, int maxFrames)
    {
        _process = process;
        _maxFrames = maxFrames;
        _stopper = new ThreadStopper(process.Pid);
        _names = new ThreadNames(process.Pid);
        ProbeTraceable();
        _memory = new ProcessMemory(process.Pid);
        var reader = new PtraceDataReader(process.Pid, _memory, _stopper, ProcFs.ReadFileMappings(process.Pid));
        _dataTarget = new DataTarget(reader, RuntimeSession.Options());
        try
        {
            _runtime = RuntimeSession.Create(_dataTarget, process, out var version);
            RuntimeVersion = version;
        }
        catch
        {
            _dataTarget.Dispose();
            throw;
        }
    }

    /// <summary>Opens a session on the calling thread, which must make every later call.</summary>
    public static PtraceStackSource Open(TargetProcess process, int maxFrames) => new(process, maxFrames);

    /// <summary>One stop and resume before anything else, so a missing privilege or a racing tracer fails fast and clearly.</summary>
    void ProbeTraceable()
    {
        var tids = ProcFs.ListThreads(_process.Pid);
        var stopped = _stopper.StopAll(tids);
        _stopper.ResumeAll();
        if (stopped > 0) return;
        if (!ProcFs.ProcessExists(_process.Pid))
            throw new SnapperException(ExitCode.NoSuchProcess, $"process {_process.Pid} ({_process.Name}) exited");
        if (_stopper.LastSeizeErrno == Native.EPERM)
        {
            var tracer = ProcFs.ReadTracerPid(_process.Pid);
            if (tracer != 0)
                throw new SnapperException(ExitCode.AlreadyTraced,
                    $"process {_process.Pid} ({_process.Name}) is already traced by pid {tracer} ({ProcFs.ReadComm(tracer) ?? "?"})");
            throw TargetProcess.PermissionDenied(_process.Pid, _process.Name);
        }
        throw new SnapperException(ExitCode.NoSuchProcess, $"could not stop any thread of process {_process.Pid} ({_process.Name})");
    }

    public CapturedSnapshot Capture()
    {
        var tids = ProcFs.ListThreads(_process.Pid);
        if (tids.Length == 0 || ProcFs.ReadThreadState(_process.Pid, _process.Pid) == 'Z')
            throw new TargetExitedException($"process {_process.Pid} exited");

        long start = 0;
        TimeSpan pause;
        List<RawThread> raw;
        try
        {
            start = Stopwatch.GetTimestamp();
            if (_stopper.StopAll(tids) == 0)
                throw ProcFs.ProcessExists(_process.Pid)
                    ? new SnapshotFailedException("no thread could be stopped")
                    : new TargetExitedException($"process {_process.Pid} exited");
            _stoppedTids.Clear();
            foreach (var thread in _stopper.Stopped) _stoppedTids.Add((uint)thread.Tid);
            _memory.Flush();
            _runtime.FlushCachedData();
            raw = ClrStackWalker.Walk(_runtime, _stoppedTids.Contains, _maxFrames);
        }
        catch (Exception e) when (e is not TargetExitedException and not SnapshotFailedException)
        {
            throw ProcFs.ProcessExists(_process.Pid)
                ? new SnapshotFailedException(e.Message, e)
                : new TargetExitedException($"process {_process.Pid} exited");
        }
        finally
        {
            // Resume no matter what happened above (a second call is a no-op: the stopped list is empty).
            pause = _stopper.ResumeAll();
        }
        return new CapturedSnapshot(start, pause, Name(raw));
    }

    List<ThreadStack> Name(List<RawThread> raw)
    {
        var threads = new List<ThreadStack>(raw.Count);
        foreach (var thread in raw)
            threads.Add(new ThreadStack(thread.OsThreadId, thread.ManagedThreadId,
                _names.Get(thread.OsThreadId), _resolver.Resolve(thread.Frames)));
        return threads;
    }

    public void Dispose()
    {
        _stopper.ReleaseAll();
        _resolver.Dispose();
        _runtime.Dispose();
        _dataTarget.Dispose();
        _memory.Dispose();
    }
}
