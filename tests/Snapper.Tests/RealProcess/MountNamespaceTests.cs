using System.Diagnostics;
using System.Runtime.InteropServices;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// A target in another mount namespace (a container, seen from the host): the files its /proc maps name do not exist
/// at those paths for Snapper. Here the .NET install is bind-mounted, inside the target's private namespace only,
/// over a directory that is empty for everyone else.
/// </summary>
public sealed class MountNamespaceTests
{
    [Fact]
    public void A_target_whose_runtime_exists_only_in_its_own_mount_namespace_is_sampled_fully()
    {
        Assert.True(File.Exists("/usr/bin/unshare"), "unshare (util-linux) is required for this test");
        using var dir = new TempDirectory();
        var mountPoint = Directory.CreateDirectory(dir.File("dotnet-in-namespace")).FullName;
        var dotnetRoot = Path.GetDirectoryName(new FileInfo(Dotnet.Host).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Dotnet.Host)!;
        var info = new ProcessStartInfo("/usr/bin/unshare",
            ["--mount", "--propagation", "private", "/bin/sh", "-c", "mount --bind \"$1\" \"$2\" && exec \"$2/dotnet\" \"$3\" mixed",
             "sh", dotnetRoot, mountPoint, Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll")])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var target = RunningTarget.StartAndWait(info);
        Assert.Empty(Directory.GetFileSystemEntries(mountPoint)); // the runtime really is out of Snapper's sight
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "20", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 0, result.ToString());
        var profile = ProfileQueries.LoadLatest(db);
        // The runtime's version is read from its binary, which too only the target's namespace has.
        Assert.Equal(Path.GetFileName(Path.TrimEndingDirectorySeparator(RuntimeEnvironment.GetRuntimeDirectory())), profile.Session.Target.RuntimeVersion);
        Assert.All(ProfileQueries.StacksOf(profile, "Recursor"), s => Assert.Equal(21, s.Count(f => f.DisplayName == "Snapper.TestTarget.Recursor.Recurse")));
        // Naming the BCL's P/Invoke needs System.Private.CoreLib's file, which only the target's namespace has.
        Assert.All(ProfileQueries.StacksOf(profile, "Waiter"), s => Assert.Equal("QCall!Monitor_Wait", s[^1].DisplayName));
        Assert.False(target.AnyThreadStopped());
    }
}
