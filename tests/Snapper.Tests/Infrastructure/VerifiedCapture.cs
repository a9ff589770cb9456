using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Snapper.Tests.Infrastructure;

/// <summary>
/// A capture in one of Snapper's verification modes (SNAPPER_VERIFY_WALK, SNAPPER_VERIFY_REUSE): Snapper prints a
/// summary line on exit, whose first two numbers are what was compared and how many differed.
/// </summary>
static class VerifiedCapture
{
    public static (long Compared, long Differences, string Stderr) Run(int pid, string rate, string duration, string mode, Regex summary,
        ITestOutputHelper output)
    {
        using var dir = new TempDirectory();
        var info = SnapperCli.StartInfo("sample", "--pid", pid.ToString(), "--rate", rate, "--duration", duration, "--db", dir.File("v.db"), "--no-report");
        info.Environment[mode] = "1";
        using var process = Process.Start(info)!;
        var result = SnapperCli.Wait(process, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.ToString());
        var match = summary.Match(result.Stderr);
        Assert.True(match.Success, $"no verification summary\n{result}");
        output.WriteLine(result.Stderr[match.Index..].Split('\n')[0]);
        return (long.Parse(match.Groups[1].Value), long.Parse(match.Groups[2].Value), result.Stderr);
    }
}
