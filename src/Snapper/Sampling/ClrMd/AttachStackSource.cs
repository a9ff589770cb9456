using System.Diagnostics;
using Microsoft.Diagnostics.Runtime;
using Snapper.Cli;

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
    readonly ManagedThreadNames _names;

    public string RuntimeVersion { get; }

    /// <summary>Not broken down: attach, walk and detach are one ClrMD call sequence.</summary>
    public PhaseTimings Timings { get; } = new();

    AttachStackSource(TargetProcess process, int maxFrames)
    {
        _process = process;
        _maxFrames = maxFrames;
        _names = new ManagedThreadNames(process.Pid);
        _resolver = new FrameResolver(process.HostPathOf);
        using var target = Attach(suspend: false);
        using var runtime = RuntimeSession.Create(target, process, out var version);
        RuntimeVersion = version;
    }

    public static AttachStackSource Open(TargetProcess process, int maxFrames) => new(process, maxFrames);

    public CapturedSnapshot Capture()
    {
        var start = Stopwatch.GetTimestamp();
        var threads = new List<ThreadStack>();
        try
        {
            using var target = Attach(suspend: true);
            using var runtime = RuntimeSession.Create(target, _process, out _);
            var raw = ClrStackWalker.Walk(runtime.Threads, _ => true, _maxFrames);
            _names.Update(runtime, raw);
            foreach (var thread in raw)
                threads.Add(new ThreadStack(thread.OsThreadId, thread.ManagedThreadId, _names.NameOf(thread), _resolver.Resolve(thread)));
        }
        catch (SnapperException e) when (e.Code == ExitCode.NoSuchProcess)
        {
            throw new TargetExitedException(e.Message);
        }
        catch (Exception e) when (e is not SnapperException)
        {
            if (!Linux.ProcFs.ProcessExists(_process.Pid)) throw new TargetExitedException($"process {_process.Pid} exited");
            throw new SnapshotFailedException(e.Message, e);
        }
        // Disposing the DataTarget detached: the pause ends here.
        return new CapturedSnapshot(start, Stopwatch.GetElapsedTime(start), threads);
    }

    DataTarget Attach(bool suspend)
    {
        try
        {
            return DataTarget.AttachToProcess(_process.Pid, suspend, RuntimeSession.Options());
        }
        catch (ArgumentException)
        {
            throw new SnapperException(ExitCode.NoSuchProcess, $"process {_process.Pid} ({_process.Name}) exited");
        }
        catch (UnauthorizedAccessException)
        {
            throw TargetProcess.PermissionDenied(_process.Pid, _process.Name);
        }
        catch (ClrDiagnosticsException e) when (e.Message.Contains("PTRACE_ATTACH", StringComparison.Ordinal))
        {
            throw new SnapperException(ExitCode.AlreadyTraced, $"cannot attach to process {_process.Pid} ({_process.Name}): {e.Message}");
        }
    }

    public void Dispose() => _resolver.Dispose();
}
