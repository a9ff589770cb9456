using System.Runtime.InteropServices;

namespace Snapper.Cli;

/// <summary>
/// Turns SIGINT, SIGTERM and SIGHUP into a cancellation, so a capture stops at the next sample boundary (with the
/// target resumed), stores what it took and writes its report, instead of the runtime killing the process.
/// </summary>
public sealed class Signals : IDisposable
{
    readonly CancellationTokenSource _cancel = new();
    readonly PosixSignalRegistration[] _registrations;

    public Signals()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, Handle),
        ];
    }

    public CancellationToken Token => _cancel.Token;

    void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // keep running: the capture ends itself cleanly
        _cancel.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _cancel.Dispose();
    }
}
