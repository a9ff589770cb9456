using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Snapper.Tests.Infrastructure;

/// <summary>
/// tests/Snapper.OlderRuntimesTarget published self-contained for an older target framework (net8.0, net9.0), once per
/// framework per test run: a publish takes seconds, and every test of that framework starts the same app. Only the
/// .NET 10 runtime is installed here, so each app carries its own runtime (libcoreclr.so, the DAC) from the runtime
/// pack that .ci/run restores.
/// </summary>
public sealed class OlderRuntimeApps : IDisposable
{
    readonly TempDirectory _dir = new();
    readonly ConcurrentDictionary<string, Lazy<OlderRuntimeApp>> _apps = new();

    public OlderRuntimeApp Get(string framework) =>
        _apps.GetOrAdd(framework, f => new Lazy<OlderRuntimeApp>(() => Publish(f))).Value;

    OlderRuntimeApp Publish(string framework)
    {
        var output = _dir.File(framework);
        var project = Path.Combine(Repository.Root, "tests", "Snapper.OlderRuntimesTarget", "Snapper.OlderRuntimesTarget.csproj");
        Dotnet.Release("publish", project, output, "-f", framework);
        return new OlderRuntimeApp(Path.Combine(output, "Snapper.OlderRuntimesTarget"), IncludedRuntimeVersion(output));
    }

    /// <summary>The version of the runtime the SDK put into the app, as its runtimeconfig.json records it.</summary>
    static string IncludedRuntimeVersion(string output)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "Snapper.OlderRuntimesTarget.runtimeconfig.json")));
        var framework = config.RootElement.GetProperty("runtimeOptions").GetProperty("includedFrameworks").EnumerateArray()
            .Single(f => f.GetProperty("name").GetString() == "Microsoft.NETCore.App");
        return framework.GetProperty("version").GetString()!;
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>A published self-contained app and the version of the runtime it carries ("8.0.31").</summary>
public sealed record OlderRuntimeApp(string Executable, string RuntimeVersion)
{
    /// <summary>Starts a scenario of the app (mixed, states or native-leaf) and waits for its READY line.</summary>
    public RunningTarget Start(string scenario) =>
        RunningTarget.StartAndWait(new ProcessStartInfo(Executable, [scenario])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        });
}
