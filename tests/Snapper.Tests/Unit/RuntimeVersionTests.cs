using System.Runtime.InteropServices;
using Snapper.Sampling;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.Unit;

/// <summary>
/// The runtime's version from its own binary: the file versions .NET's build writes, and the test process's own
/// libcoreclr.so where a framework-dependent app has it, where a self-contained app has it, and under a shared
/// runtime directory whose name disagrees with it.
/// </summary>
public sealed class RuntimeVersionTests
{
    static string OwnRuntime => Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libcoreclr.so");

    [Theory]
    [InlineData("8.0.3126.42015", "8.0.31")]
    [InlineData("9.0.2026.41315", "9.0.20")]
    [InlineData("10.0.1226.42308", "10.0.12")]
    [InlineData("10.0.25.45107", "10.0.0")] // a preview or release candidate: patch 0, built in '25
    [InlineData("8.101.524.42015", "8.1.105")] // minor 1, patch 105: the patch's hundreds sit in the file's minor
    [InlineData("4.700.22.55902", null)] // .NET Core 3.1: its file version was not the product's
    [InlineData("42.42.42.42424", null)] // a developer's own build of the runtime
    [InlineData("8.0", null)]
    [InlineData("not a version", null)]
    public void A_file_version_gives_the_product_version_it_encodes(string fileVersion, string? expected) =>
        Assert.Equal(expected, RuntimeVersion.FromFileVersion(fileVersion));

    [Fact]
    public void The_shared_runtime_reads_as_its_own_version()
    {
        var directory = Path.GetDirectoryName(OwnRuntime)!;
        Assert.Equal("Microsoft.NETCore.App", Path.GetFileName(Path.GetDirectoryName(directory)));
        Assert.Equal(Path.GetFileName(directory), RuntimeVersion.Of(OwnRuntime));
        Assert.StartsWith(Environment.Version.ToString(3), RuntimeVersion.Of(OwnRuntime));
    }

    [Fact]
    public void A_self_contained_runtime_reads_the_same_from_the_binary_alone()
    {
        using var dir = new TempDirectory();
        var app = Directory.CreateDirectory(dir.File("1.2.3")).FullName; // an app's own version: not the runtime's
        File.CreateSymbolicLink(Path.Combine(app, "libcoreclr.so"), OwnRuntime);

        Assert.Equal(Environment.Version.ToString(3), RuntimeVersion.Of(Path.Combine(app, "libcoreclr.so")));
    }

    [Theory]
    [InlineData("-rc.1.25451.107", true)] // the directory's name says more (a label) and agrees: it is kept
    [InlineData("", true)]
    [InlineData("1", false)] // 10.0.121 is another version: the binary is believed
    public void A_shared_runtime_directory_name_is_kept_only_when_it_agrees_with_the_binary(string suffix, bool kept)
    {
        using var dir = new TempDirectory();
        var name = Environment.Version.ToString(3) + suffix;
        var runtime = Directory.CreateDirectory(Path.Combine(dir.Path, "shared", "Microsoft.NETCore.App", name)).FullName;
        File.CreateSymbolicLink(Path.Combine(runtime, "libcoreclr.so"), OwnRuntime);

        Assert.Equal(kept ? name : Environment.Version.ToString(3), RuntimeVersion.Of(Path.Combine(runtime, "libcoreclr.so")));
    }

    [Fact]
    public void A_missing_or_foreign_file_has_no_version()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("libcoreclr.so"), "@(#)Version 8.0.3126.42015 but not an ELF file");

        Assert.Null(RuntimeVersion.Of(dir.File("libcoreclr.so")));
        Assert.Null(RuntimeVersion.Of(dir.File("missing.so")));
        Assert.Null(RuntimeVersion.Of("/bin/sh")); // an ELF binary .NET's build did not stamp
    }
}
