namespace Snapper.Tests.Infrastructure;

/// <summary>The dotnet host that runs the tests, so targets and Snapper use the same runtime.</summary>
public static class Dotnet
{
    public static string Host { get; } = Find();

    static string Find()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        var root = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var candidate = Path.Combine(root, "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }
}
