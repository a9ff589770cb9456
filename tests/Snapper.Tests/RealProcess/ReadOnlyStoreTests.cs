using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// A store the user may read but not write (an archive from a production host, a root-owned file read by an
/// operator): every reading command works on it; a capture into it fails at once, in one line, before any target
/// is started, and the file is left as it was.
/// </summary>
public sealed class ReadOnlyStoreTests
{
    const UnixFileMode ReadOnlyFile = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    const UnixFileMode ReadOnlyDirectory = ReadOnlyFile | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    [SkippableFact]
    public void A_read_only_store_can_be_read_and_is_never_written()
    {
        Unprivileged.Require();
        using var home = new TempDirectory();
        Unprivileged.OpenToEveryone(home.Path);
        using var archive = new TempDirectory();
        var db = archive.File("archive.db");
        using (var target = RunningTarget.StartTestTarget("mixed"))
        {
            var capture = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "10", "--db", db, "--no-report");
            Assert.True(capture.ExitCode == 0, capture.ToString());
        }
        File.SetUnixFileMode(db, ReadOnlyFile);
        File.SetUnixFileMode(archive.Path, ReadOnlyDirectory);
        var before = File.ReadAllBytes(db);
        // The store and the lock file its capture left beside it (see StoreLockFile): reading adds nothing.
        var files = Directory.GetFiles(archive.Path).Select(Path.GetFileName).Order().ToList();

        var sessions = Unprivileged.Run(home.Path, "sessions", "--db", db);
        Assert.True(sessions.ExitCode == 0, sessions.ToString());
        Assert.Contains("count reached", sessions.Stdout);
        var report = Unprivileged.Run(home.Path, "report", "--db", db, "--format", "text");
        Assert.True(report.ExitCode == 0, report.ToString());
        Assert.Contains("Snapper.TestTarget.Spinner.Spin", report.Stdout);
        var html = Path.Combine(home.Path, "r.html");
        var written = Unprivileged.Run(home.Path, "report", "--db", db, "--output", html);
        Assert.True(written.ExitCode == 0 && File.Exists(html), written.ToString());

        var launched = Unprivileged.Run(home.Path, "sample", "--db", db, "--count", "5", "--", Dotnet.Host,
            Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll"), "mixed");
        Assert.True(launched.ExitCode == 8, launched.ToString());
        Assert.Equal($"error: cannot open database '{db}': the file or its directory is read-only", launched.Stderr.Trim());
        Assert.DoesNotContain("Started", launched.Stdout);

        Assert.Equal(before, File.ReadAllBytes(db));
        Assert.Equal(files, Directory.GetFiles(archive.Path).Select(Path.GetFileName).Order());
    }
}
