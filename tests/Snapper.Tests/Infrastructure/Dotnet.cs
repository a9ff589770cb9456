using System.Diagnostics;

namespace Snapper.Tests.Infrastructure;

/// <summary>The dotnet host that runs the tests, so targets and Snapper use the same runtime.</summary>
public static class Dotnet
{
    public static string Host => Snapper.Cli.DotnetHost.Path;

    /// <summary>Builds or publishes a project of this repository in Release into <paramref name="output"/>; a failure fails the test with the SDK's output.</summary>
    /// <param name="verb">build or publish</param>
    /// <param name="options">more options for the SDK, such as a target framework (-f net8.0)</param>
    public static void Release(string verb, string project, string output, params string[] options)
    {
        var sdk = Process.Start(new ProcessStartInfo(Host, [verb, project, "-c", "Release", "-o", output, "--nologo", .. options])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var log = sdk.StandardOutput.ReadToEndAsync();
        var errors = sdk.StandardError.ReadToEndAsync();
        Assert.True(sdk.WaitForExit(300_000), $"dotnet {verb} of {Path.GetFileName(project)} took over 5 minutes");
        Assert.True(sdk.ExitCode == 0, $"dotnet {verb} failed: {log.Result} {errors.Result}");
    }
}
