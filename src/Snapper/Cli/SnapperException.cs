namespace Snapper.Cli;

/// <summary>A failure the user can act on: printed as one <c>error: ...</c> line, exits with <see cref="Code"/>.</summary>
public sealed class SnapperException(ExitCode code, string message, Exception? inner = null) : Exception(message, inner)
{
    public ExitCode Code { get; } = code;
}
