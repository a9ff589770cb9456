using System.Diagnostics.CodeAnalysis;

namespace Snapper.Tests.Infrastructure;

/// <summary>
/// What a test needs of the machine (root, kernel BTF, a recent kernel, systemd). Missing, the test is skipped with the
/// reason, so a run says what it did not check; under CI=true, whose machine has everything, it fails instead.
/// </summary>
static class Prerequisite
{
    public static bool InCi => Environment.GetEnvironmentVariable("CI") == "true";

    /// <summary>Skips the test (or fails it under CI) when <paramref name="present"/> is false.</summary>
    public static void Require([DoesNotReturnIf(false)] bool present, string reason)
    {
        if (present) return;
        Assert.False(InCi, $"CI machines have this: {reason}");
        Skip.If(true, reason);
    }
}
