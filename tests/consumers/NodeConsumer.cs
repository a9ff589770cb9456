using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Snapper.Consumers;

/// <summary>
/// Runs the independent readers in tests/consumers (Node.js scripts over published packages) on an exported file.
/// Compiled into both test projects. Under CI=true a missing node or a missing <c>npm ci</c> fails the test with
/// what to do; elsewhere the test is skipped with the same reason, never passed without checking.
/// </summary>
static class NodeConsumer
{
    public static string Directory { get; } = SourceDirectory();

    static readonly Lazy<string?> Missing = new(FindWhatIsMissing);

    /// <summary>Runs <c>node &lt;checker&gt;.mjs &lt;file&gt;</c>; fails with the checker's reasons if it rejects the file, else returns its summary.</summary>
    public static JsonElement Check(string checker, string file)
    {
        RequireTools();
        var info = new ProcessStartInfo("node", [Path.Combine(Directory, checker + ".mjs"), file])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{checker} did not finish within 2 minutes on {file}");
        }
        Assert.True(process.ExitCode == 0, $"{checker} rejected {file} (exit {process.ExitCode}):\n{stderr.Result}{stdout.Result}");
        return JsonDocument.Parse(stdout.Result).RootElement.Clone();
    }

    /// <summary>Call first in a test that needs the consumers: fails under CI, skips elsewhere, when they cannot run.</summary>
    public static void RequireTools()
    {
        if (Missing.Value is not { } missing) return;
        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", missing);
        Skip.If(true, missing);
    }

    static string? FindWhatIsMissing()
    {
        const string remedy = "install Node.js and npm, then run 'npm ci' in tests/consumers (.ci/run does both)";
        try
        {
            using var node = Process.Start(new ProcessStartInfo("node", ["--version"]) { RedirectStandardOutput = true, UseShellExecute = false })!;
            node.StandardOutput.ReadToEnd();
            node.WaitForExit();
            if (node.ExitCode != 0) return $"'node --version' failed: the export tests read each format with independent Node.js readers; {remedy}";
        }
        catch (Win32Exception)
        {
            return $"node is not installed: the export tests read each format with independent Node.js readers; {remedy}";
        }
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "package.json")));
        var absent = manifest.RootElement.GetProperty("dependencies").EnumerateObject()
            .Select(p => p.Name)
            .Where(name => !File.Exists(Path.Combine(Directory, "node_modules", name, "package.json")))
            .ToList();
        return absent.Count == 0 ? null : $"tests/consumers/node_modules lacks {string.Join(", ", absent)}: {remedy}";
    }

    static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
