using System.Diagnostics;
using System.Reflection;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.Packaging;

/// <summary>
/// Snapper installs as a .NET tool, as the README says: <c>dotnet pack src/Snapper</c>, then
/// <c>dotnet tool install Snapper.Profiler --add-source DIR</c>, and the installed <c>snapper</c> command runs. The
/// package is packed from the build these tests run against (no second build) into a scratch directory and installed
/// with <c>--tool-path</c>, so the machine's tools are left alone; both are deleted afterwards. Nothing here is
/// skipped: a package that cannot be packed or installed fails the test.
/// </summary>
public sealed class DotnetToolTests
{
    /// <summary>The commands <c>snapper --help</c> must list: every one the README documents.</summary>
    static readonly string[] Commands = ["sample", "report", "export", "sessions", "ps", "prune", "diff", "dump", "demo"];

    [Fact]
    public void The_packed_tool_installs_and_its_snapper_command_runs()
    {
        using var scratch = new TempDirectory();
        var packages = scratch.File("nupkg");
        var tools = scratch.File("tools");

        // The configuration these tests were built in is the one src/Snapper was built in (a project reference).
        var configuration = typeof(DotnetToolTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration;
        Assert.False(string.IsNullOrEmpty(configuration), "the test assembly names no build configuration");
        var project = Path.Combine(Repository.Root, "src", "Snapper", "Snapper.csproj");
        // Publish and nuspec folders in the scratch directory too: the pack writes nothing beside the sources.
        var pack = Run(Dotnet.Host, scratch.Path,
            "pack", project, "-c", configuration, "--no-build", "-o", packages, "--nologo",
            $"-p:PublishDir={scratch.File("publish")}/", $"-p:NuspecOutputPath={scratch.File("nuspec")}/");
        Assert.True(pack.ExitCode == 0, $"dotnet pack failed: {pack}");
        var package = Assert.Single(Directory.GetFiles(packages, "*.nupkg"));
        const string prefix = "Snapper.Profiler.";
        var name = Path.GetFileNameWithoutExtension(package);
        Assert.StartsWith(prefix, name);
        var version = name[prefix.Length..];

        // Only the scratch package source: the install neither reaches a registry nor finds another package of the id.
        var config = scratch.File("nuget.config");
        File.WriteAllText(config, """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
              </packageSources>
            </configuration>
            """);
        var install = Run(Dotnet.Host, scratch.Path,
            "tool", "install", "Snapper.Profiler", "--tool-path", tools, "--add-source", packages,
            "--configfile", config, "--version", version);
        Assert.True(install.ExitCode == 0, $"dotnet tool install failed: {install}");

        var snapper = Path.Combine(tools, "snapper");
        Assert.True(File.Exists(snapper), $"the install left no {snapper}: {install}");

        var help = Run(snapper, scratch.Path, "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("sampling profiler for live .NET processes", help.Stdout);
        foreach (var command in Commands)
            Assert.Matches($@"(?m)^\s+{command}\b", help.Stdout);

        var versionOutput = Run(snapper, scratch.Path, "--version");
        Assert.True(versionOutput.ExitCode == 0, versionOutput.ToString());
        Assert.StartsWith(version, versionOutput.Stdout.Trim());
    }

    /// <summary>Runs a program to its end (5 minutes at most), with the dotnet that runs the tests as the tool shim's runtime.</summary>
    static SnapperCli.Result Run(string program, string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(program, args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The installed 'snapper' is an apphost: DOTNET_ROOT names the runtime to use, wherever dotnet is installed
        // (the runtime directory is <root>/shared/Microsoft.NETCore.App/<version>/).
        info.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(
            System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        return SnapperCli.Wait(process, TimeSpan.FromMinutes(5));
    }
}
