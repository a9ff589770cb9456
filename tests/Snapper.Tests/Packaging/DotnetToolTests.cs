using System.Diagnostics;
using System.Reflection;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.Packaging;

/// <summary>
/// Snapper installs as a .NET tool, as the README says: <c>dotnet pack src/Snapper</c>, then
/// <c>dotnet tool install Snapper.Profiler --add-source DIR</c>, and the installed <c>snapper</c> command runs the way
/// the published binary does: ReadyToRun code, tiered compilation and dynamic PGO off (issue 23 point 7). The package
/// is a linux-x64 one (a pointer package plus <c>Snapper.Profiler.linux-x64</c>), and that needs a linux-x64 build of
/// its own: the tests' build is RID-agnostic and not precompiled. So the pack builds, in the configuration these tests
/// were built in, into a scratch artifacts directory (about a minute on 2 vCPUs; nothing is written beside the sources
/// and the build the other tests run is left alone), and the tool is installed with <c>--tool-path</c>, so the
/// machine's tools are left alone; both are deleted afterwards. Nothing here is skipped: a package that cannot be
/// packed or installed fails the test.
/// </summary>
public sealed class DotnetToolTests
{
    /// <summary>The commands <c>snapper --help</c> must list: every one the README documents.</summary>
    static readonly string[] Commands = ["sample", "report", "export", "sessions", "ps", "prune", "diff", "dump", "demo"];

    /// <summary>
    /// The runtime settings src/Snapper/Snapper.csproj gives a published snapper, which the benchmark measured: the
    /// installed tool must have every one.
    /// </summary>
    static readonly (string Name, JsonValueKind Kind, string Value)[] PublishedSettings =
    [
        ("System.Runtime.TieredCompilation", JsonValueKind.False, "false"),
        ("System.Runtime.TieredPGO", JsonValueKind.False, "false"),
        ("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", JsonValueKind.Number, "0"),
    ];

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
        // The README's command, with every build, publish and nuspec folder in the scratch directory.
        var pack = Run(Dotnet.Host, scratch.Path,
            "pack", project, "-c", configuration, "-o", packages, "--nologo",
            "--artifacts-path", scratch.File("artifacts"));
        Assert.True(pack.ExitCode == 0, $"dotnet pack failed: {pack}");
        // Snapper.Profiler.<version>, the package users install, and the linux-x64 package it names, which holds the tool.
        const string prefix = "Snapper.Profiler.";
        var name = Assert.Single(Directory.GetFiles(packages, "*.nupkg").Select(Path.GetFileNameWithoutExtension),
            n => n!.StartsWith(prefix, StringComparison.Ordinal) && char.IsAsciiDigit(n[prefix.Length]))!;
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

        // The installed files live in the tool path's store, wherever the package layout puts them.
        var runtimeConfig = Assert.Single(Directory.GetFiles(Path.Combine(tools, ".store"), "snapper.runtimeconfig.json", SearchOption.AllDirectories));
        using (var json = JsonDocument.Parse(File.ReadAllText(runtimeConfig)))
        {
            var settings = json.RootElement.GetProperty("runtimeOptions").TryGetProperty("configProperties", out var properties)
                ? properties
                : default;
            foreach (var (setting, kind, value) in PublishedSettings)
            {
                var found = settings.ValueKind == JsonValueKind.Object && settings.TryGetProperty(setting, out var property)
                    ? property
                    : default;
                Assert.True(found.ValueKind == kind && found.GetRawText() == value,
                    $"the installed {runtimeConfig} must set {setting} to {value}, as the published snapper does: {File.ReadAllText(runtimeConfig)}");
            }
        }
        var dll = Path.Combine(Path.GetDirectoryName(runtimeConfig)!, "snapper.dll");
        Assert.True(IsReadyToRun(dll), $"the installed {dll} holds no ReadyToRun code: it would JIT-compile itself at every capture's start");
    }

    /// <summary>
    /// Whether an assembly carries ReadyToRun (precompiled) code: its CLI header names a managed native header, and that
    /// header starts with the ReadyToRun signature. An IL-only assembly, as <c>dotnet build</c> makes, names none.
    /// </summary>
    internal static bool IsReadyToRun(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var header = pe.PEHeaders.CorHeader;
        if (header is null || header.ManagedNativeHeaderDirectory.Size < sizeof(uint))
            return false;
        const uint signature = 0x00525452; // READYTORUN_SIGNATURE, "RTR" (src/coreclr/inc/readytorun.h)
        return pe.GetSectionData(header.ManagedNativeHeaderDirectory.RelativeVirtualAddress).GetReader().ReadUInt32() == signature;
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
