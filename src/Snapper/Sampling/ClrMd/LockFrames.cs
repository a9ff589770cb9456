using Microsoft.Diagnostics.Runtime;
using Snapper.Store;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Whether a walked thread is blocked entering a lock: its innermost managed frames (under, at most, the wait it blocks
/// in) are System.Threading.Monitor's Enter methods or System.Threading.Lock's.
/// </summary>
static class LockFrames
{
    // Frames a lock's wait may sit under, innermost, before the lock's own: the wait handle and the runtime's low-level waits.
    const int MaxWaitFrames = 6;
    const string MonitorType = "System.Threading.Monitor", LockType = "System.Threading.Lock";

    /// <summary>
    /// A thread entering a lock: which kind, where its caller's frame begins (<paramref name="Bound"/>: the lock's object
    /// was handed down below it), and where the outermost lock frame is executing (<paramref name="LockFrameIp"/>: the
    /// same code lays out its frames the same way, so where the object lies relative to <paramref name="Bound"/> can be
    /// learned per place).
    /// </summary>
    public readonly record struct Entering(LockKind Kind, ulong Bound, ulong LockFrameIp);

    public static Entering? Of(RawThread thread)
    {
        LockKind? kind = null;
        ulong lockFrameIp = 0;
        var managedBefore = 0;
        foreach (var frame in thread.Frames)
        {
            var type = frame.Method?.Type?.Name;
            var method = frame.Method?.Name ?? "";
            LockKind? lockFrame = type switch
            {
                MonitorType when method.Contains("Enter", StringComparison.Ordinal) => LockKind.Monitor,
                LockType when method.Contains("Enter", StringComparison.Ordinal) => LockKind.Lock,
                _ => null,
            };
            if (lockFrame is { } k)
            {
                kind ??= k;
                lockFrameIp = frame.InstructionPointer;
                continue;
            }
            if (frame.Kind != ClrStackFrameKind.ManagedMethod) continue; // runtime frames: a P/Invoke, a helper
            if (kind is { } entering) return new Entering(entering, frame.StackPointer, lockFrameIp);
            // Under the lock's frames only the wait it blocks in (WaitHandle, the runtime's low-level waits), and the IL stub
            // of its P/Invoke (seen under Lock.TryEnterSlow when the JIT inlined WaitHandle's managed frames away).
            if (!IsWaitFrame(type, method) || ++managedBefore > MaxWaitFrames) return null;
        }
        return null;
    }

    static bool IsWaitFrame(string? type, string method) =>
        type is not null && type.StartsWith("System.Threading.", StringComparison.Ordinal) || method.StartsWith("IL_STUB", StringComparison.Ordinal);
}
