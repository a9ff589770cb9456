namespace Snapper.Cli;

/// <summary>Snapper's exit codes. Documented in the README (in full: docs/exit-codes.md); scripts and cron rely on them, so never renumber.</summary>
public enum ExitCode
{
    Success = 0,
    /// <summary>A bug: an unexpected exception. The message says where to report it.</summary>
    InternalError = 1,
    InvalidArguments = 2,
    NoSuchProcess = 3,
    NotDotNet = 4,
    PermissionDenied = 5,
    AlreadyTraced = 6,
    /// <summary>The target exited during the capture; every sample taken was kept.</summary>
    TargetExited = 7,
    DatabaseError = 8,
    OutputError = 9,
    NotFound = 10,
    /// <summary>sample --name found no such .NET process (0 instead with --if-running, for cron).</summary>
    NoMatchingProcess = 11,
    /// <summary>The --layers rules file cannot be read or is not valid (the message names the file and the problem).</summary>
    BadLayerRules = 12,
    /// <summary>The capture ended because its snapshots kept failing (Sampler.MaxFailuresInARow in a row); what was taken is kept.</summary>
    SamplingFailed = 13,
}
