using System.ComponentModel;
using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling;

/// <summary>
/// Tells a snapshot that a live target made fail (it exited, a thread vanished, a ptrace call or a memory read
/// failed, the runtime's data changed under a read) from one that failed on a bug of Snapper's own (a
/// NullReferenceException, an index out of range, an invalid cast, a bad argument, ...). The first kind is routine and
/// counted as failed; the second must be seen and reported, so it is counted apart, per reason.
/// </summary>
public static class SnapperBugs
{
    /// <summary>Longest reason kept: the type, the place and the start of the message say enough to find the bug.</summary>
    public const int MaxReasonLength = 200;

    /// <summary>Whether <paramref name="failure"/>, thrown by a snapshot, is a bug of Snapper's rather than the target's doing.</summary>
    public static bool IsBug(Exception failure)
    {
        var cause = RootCause(failure);
        return cause switch
        {
            TargetExitedException or TargetRefusedException => false,
            SnapshotFailedException => false, // Snapper's own judgement, with no exception under it: "no thread could be stopped"
            IOException or UnauthorizedAccessException or Win32Exception or InvalidDataException or TimeoutException => false,
            ClrDiagnosticsException => false,
            // ClrMD throws it when what it reads of the runtime is not there (yet, or any more); thrown by Snapper, it is a bug.
            InvalidOperationException when cause.TargetSite?.DeclaringType?.Assembly == typeof(ClrRuntime).Assembly => false,
            _ => true,
        };
    }

    /// <summary>The type, the method that threw and the first line of the message, at most <see cref="MaxReasonLength"/> characters.</summary>
    public static string ReasonOf(Exception failure)
    {
        var cause = RootCause(failure);
        var site = cause.TargetSite is { } method ? $" in {method.DeclaringType?.Name ?? "?"}.{method.Name}" : "";
        var message = cause.Message.Split('\n', 2)[0].Trim();
        var reason = $"{cause.GetType().Name}{site}: {message}";
        return reason.Length <= MaxReasonLength ? reason : reason[..(MaxReasonLength - 3)] + "...";
    }

    /// <summary>What was thrown first: the sources wrap what they catch in a <see cref="SnapshotFailedException"/>.</summary>
    static Exception RootCause(Exception failure)
    {
        var cause = failure;
        while (cause is SnapshotFailedException or AggregateException or System.Reflection.TargetInvocationException && cause.InnerException is { } inner)
            cause = inner;
        return cause;
    }
}
