namespace Snapper.Sampling;

/// <summary>Why a process cannot be sampled: each is a different answer to a user (the CLI gives each its exit code).</summary>
public enum TargetProblem
{
    /// <summary>The request names no process Snapper may sample (a pid that is no pid, Snapper itself).</summary>
    BadRequest,
    NoSuchProcess,
    NotDotNet,
    PermissionDenied,
    /// <summary>A debugger, another tracer or another Snapper holds the process.</summary>
    AlreadyTraced,
}

/// <summary>
/// The engine's refusal of a target, with a message a user can act on. The engine knows nothing of exit codes or the
/// command line: the CLI maps <see cref="Problem"/> to an exit code in one place (Cli.CommandRunner.ExitCodeOf).
/// </summary>
public sealed class TargetRefusedException(TargetProblem problem, string message, Exception? inner = null) : Exception(message, inner)
{
    public TargetProblem Problem { get; } = problem;
}
