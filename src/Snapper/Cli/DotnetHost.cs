namespace Snapper.Cli;

/// <summary>The dotnet host running this process, so that programs Snapper starts use the same runtime.</summary>
public static class DotnetHost
{
    public static string Path { get; } = Find();

    static string Find()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (System.IO.Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") return Environment.ProcessPath!;
        var root = System.IO.Path.GetFullPath(System.IO.Path.Combine(
            System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var candidate = System.IO.Path.Combine(root, "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }
}
