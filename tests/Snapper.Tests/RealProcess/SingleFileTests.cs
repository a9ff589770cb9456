using System.Diagnostics;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// A self-contained single-file app carries its runtime inside its executable, without libcoreclr.so or a DAC:
/// Snapper refuses it in one line that says what it is and what to do, and leaves it running. (NativeAOT, the
/// other kind, cannot be built here: its runtime pack is not served by this machine's registry.)
/// </summary>
public sealed class SingleFileTests
{
    [Fact]
    public void A_single_file_app_is_refused_for_what_it_is()
    {
        using var dir = new TempDirectory();
        var app = Publish(dir.File("app"));
        using var target = RunningTarget.StartAndWait(new ProcessStartInfo(app)
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        });

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "5", "--db", dir.File("s.db"));

        Assert.True(result.ExitCode == 4, result.ToString());
        // The version is that of the runtime linked into the executable: the SDK's newest .NET 10 patch.
        Assert.Matches(
            $@"^error: process {target.Pid} \(Snapper\.SingleFileTarget\) is a self-contained single-file \.NET 10\.0\.[0-9]+ app: its runtime is linked into " +
            @"the executable, without the libcoreclr\.so and DAC Snapper reads it through; publish it framework-dependent \(or without " +
            @"PublishSingleFile\) to profile it$", result.Stderr.Trim());
        Assert.False(target.Process.HasExited);
        Assert.False(target.AnyThreadStopped());
    }

    static string Publish(string output)
    {
        Dotnet.Release("publish", Path.Combine(Repository.Root, "tests", "Snapper.SingleFileTarget", "Snapper.SingleFileTarget.csproj"), output);
        return Path.Combine(output, "Snapper.SingleFileTarget");
    }
}
