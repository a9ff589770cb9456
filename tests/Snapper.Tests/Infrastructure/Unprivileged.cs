using System.Diagnostics;

namespace Snapper.Tests.Infrastructure;

/// <summary>Runs snapper as the unprivileged user nobody (through setpriv), for what root would get past.</summary>
public static class Unprivileged
{
    /// <summary>
    /// False only outside CI when the tests do not run as root (they need root to switch users); under CI, which runs
    /// as root, a missing prerequisite fails the test instead.
    /// </summary>
    public static void Require()
    {
        Prerequisite.Require(Environment.UserName == "root", "only root can run a command as another user (run the tests as root)");
        Assert.True(File.Exists("/usr/bin/setpriv"), "setpriv (util-linux) is required for this test");
    }

    /// <summary>Runs snapper as nobody; <paramref name="home"/> must be writable by nobody (the .NET host wants a HOME).</summary>
    public static SnapperCli.Result Run(string home, params string[] args)
    {
        var info = new ProcessStartInfo("/usr/bin/setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", Dotnet.Host, Path.Combine(AppContext.BaseDirectory, "snapper.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["HOME"] = home;
        info.Environment["DOTNET_CLI_HOME"] = home;
        using var snapper = Process.Start(info)!;
        return SnapperCli.Wait(snapper, TimeSpan.FromMinutes(1));
    }

    /// <summary>A directory anyone may write, as a HOME for nobody.</summary>
    public static void OpenToEveryone(string directory) => File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111);
}
