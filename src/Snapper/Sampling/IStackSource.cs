namespace Snapper.Sampling;

/// <summary>
/// Captures consistent snapshots of every managed thread's stack. Implementations hide ClrMD and ptrace; one
/// instance is used from one thread only (ptrace requires it).
/// </summary>
public interface IStackSource : IDisposable
{
    /// <summary>The runtime version, read when the source was opened.</summary>
    string RuntimeVersion { get; }

    /// <summary>Whether each thread's <see cref="ThreadStack.Runnable"/> is read from the kernel at each snapshot.</summary>
    bool KnowsRunState => false;

    /// <summary>Time per phase of capturing, accumulated since the source was opened.</summary>
    PhaseTimings Timings { get; }

    /// <summary>Stops the target, reads every thread, resumes it.</summary>
    /// <exception cref="TargetExitedException">The target is gone.</exception>
    /// <exception cref="SnapshotFailedException">This snapshot could not be read; later ones may be.</exception>
    CapturedSnapshot Capture();

    /// <summary>
    /// Called before the last wait for a snapshot's moment (at most <see cref="Sampler"/>'s longest single wait before
    /// it): a source may make sure its thread wakes on time. <see cref="Capture"/> follows.
    /// </summary>
    void CaptureDueSoon() { }

    /// <summary>
    /// Called while waiting between snapshots: lets go of any thread that entered its stop after its snapshot had to
    /// go on without it (deep in an uninterruptible system call then). Returns how soon to call again while such a
    /// thread is still on its way into its stop; null when there is none.
    /// </summary>
    TimeSpan? LetGoLateStops() => null;
}

/// <summary>The target process exited (or was killed) during the capture.</summary>
public sealed class TargetExitedException(string message) : Exception(message);

/// <summary>One snapshot failed (for example a torn read while the runtime changed state); the capture goes on.</summary>
public sealed class SnapshotFailedException(string message, Exception? inner = null) : Exception(message, inner);
