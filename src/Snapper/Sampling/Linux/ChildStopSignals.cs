namespace Snapper.Sampling.Linux;

/// <summary>
/// A tracer is sent SIGCHLD every time one of its tracees enters a ptrace stop, so every thread Snapper stops costs
/// Snapper a signal: delivered to one of its threads, handled by the .NET runtime's handler, which wakes its signal
/// thread through a pipe. That is four signals and two thread wake-ups a sample at 4 running threads, for nothing:
/// Snapper polls for the stops itself. SA_NOCLDSTOP on the installed handler (whichever it is) tells the kernel to
/// send SIGCHLD only when a child exits, not when it stops; waitpid reports the stops as before, and the runtime
/// still hears of every child that exits (System.Diagnostics.Process relies on that).
/// </summary>
static unsafe class ChildStopSignals
{
    static int _silenced;

    /// <summary>Once per process; nothing changes when the handler cannot be read or written.</summary>
    public static void Silence()
    {
        if (Interlocked.Exchange(ref _silenced, 1) == 1) return;
        Native.SigAction action;
        if (Native.SigActionCall(Native.SIGCHLD, null, &action) != 0) return;
        if ((action.Flags & Native.SA_NOCLDSTOP) != 0) return;
        action.Flags |= Native.SA_NOCLDSTOP;
        Native.SigActionCall(Native.SIGCHLD, &action, null);
    }
}
