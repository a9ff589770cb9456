using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>Finding targets by name, and keeping a store's history in bounds: ps, sample --name, sessions filters, prune.</summary>
public sealed class HistoryCommandTests
{
    /// <summary>
    /// The test target under a name of its own (other tests run Snapper.TestTarget at the same time), started with a
    /// secret on its command line.
    /// </summary>
    static RunningTarget StartNamed(TempDirectory dir, string name)
    {
        var source = AppContext.BaseDirectory;
        File.Copy(Path.Combine(source, "Snapper.TestTarget.dll"), dir.File(name + ".dll"));
        File.Copy(Path.Combine(source, "Snapper.TestTarget.runtimeconfig.json"), dir.File(name + ".runtimeconfig.json"));
        return RunningTarget.StartAndWait(new ProcessStartInfo(Dotnet.Host, [dir.File(name + ".dll"), "mixed", "--password", "hunter2"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        });
    }

    static string UniqueName() => "App" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public void Ps_lists_the_target_by_name_with_its_secrets_hidden()
    {
        using var dir = new TempDirectory();
        var name = UniqueName();
        using var target = StartNamed(dir, name);

        var result = SnapperCli.Run("ps");

        Assert.True(result.ExitCode == 0, result.ToString());
        var line = Assert.Single(result.Stdout.Split('\n'), l => l.Contains(name, StringComparison.Ordinal));
        Assert.StartsWith(target.Pid.ToString(), line.TrimStart());
        Assert.Contains(" ok ", line);
        Assert.Contains("--password ***", line);
        Assert.DoesNotContain("hunter2", result.Stdout);
        Assert.Matches(@"\b10\.\d+\.\d+\b", line); // the runtime version
    }

    [Fact]
    public void Sample_by_name_finds_the_one_process_and_fails_clearly_otherwise()
    {
        using var dir = new TempDirectory();
        var name = UniqueName();
        using var target = StartNamed(dir, name);
        var db = dir.File("s.db");

        var found = SnapperCli.Run("sample", "--name", name.ToLowerInvariant(), "--count", "5", "--db", db, "--no-report", "--quiet");
        Assert.True(found.ExitCode == 0, found.ToString());
        Assert.Equal("", found.Stdout + found.Stderr); // --quiet: nothing but errors
        Assert.Equal(target.Pid, ProfileQueries.LoadLatest(db).Session.Target.Pid);

        var verbose = SnapperCli.Run("sample", "--name", name, "--count", "5", "--db", db, "--no-report", "--verbose");
        Assert.Contains("Per sample: survey threads", verbose.Stdout);
        CliErrorTests.AssertError(SnapperCli.Run("sample", "--name", name, "--db", db, "--quiet", "--verbose"), 2, "give one");

        CliErrorTests.AssertError(SnapperCli.Run("sample", "--name", "NoSuch" + name, "--db", db), 11, "no .NET process named");
        var quiet = SnapperCli.Run("sample", "--name", "NoSuch" + name, "--db", db, "--if-running", "--quiet");
        Assert.Equal((0, ""), (quiet.ExitCode, quiet.Stdout + quiet.Stderr));
        CliErrorTests.AssertError(SnapperCli.Run("sample", "--db", db), 2, "--pid or --name");

        var twinDir = new TempDirectory();
        using (twinDir)
        using (var twin = StartNamed(twinDir, name))
        {
            CliErrorTests.AssertError(SnapperCli.Run("sample", "--name", name, "--db", db), 2, $"2 .NET processes are named '{name}'");
            // --all: each into its own session, at the same time.
            var both = SnapperCli.Run("sample", "--name", name, "--all", "--count", "10", "--db", db, "--no-report");
            Assert.True(both.ExitCode == 0, both.ToString());
            using var store = SnapperDatabase.Open(db, create: false);
            var pids = SessionQueries.List(store).Skip(2).Select(s => s.Target.Pid).Order().ToArray();
            Assert.Equal(new[] { target.Pid, twin.Pid }.Order().ToArray(), pids);
        }
    }

    [Fact]
    public void Sessions_filter_and_prune_keeps_what_remains_whole()
    {
        using var dir = new TempDirectory();
        var name = UniqueName();
        using var target = StartNamed(dir, name);
        var db = dir.File("s.db");
        for (var i = 0; i < 3; i++)
        {
            var sampled = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "20", "--db", db, "--no-report", "--quiet");
            Assert.True(sampled.ExitCode == 0, sampled.ToString());
        }

        Assert.Equal(3, SessionRows(SnapperCli.Run("sessions", "--db", db, "--name", name, "--since", "1h")));
        Assert.Contains("match (3 in all)", SnapperCli.Run("sessions", "--db", db, "--name", "other").Stdout);

        var dry = SnapperCli.Run("prune", "--db", db, "--max-size", "1KB", "--dry-run");
        Assert.Contains("Would delete 3 sessions", dry.Stdout);
        Assert.Equal(3, SessionRows(SnapperCli.Run("sessions", "--db", db)));
        Assert.Contains("Nothing to prune", SnapperCli.Run("prune", "--db", db, "--older-than", "1h").Stdout);

        // --keep 1s: the three older sessions go; the new one, whose stacks they shared, stays whole and reportable.
        Thread.Sleep(1200);
        var keep = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "20", "--db", db, "--no-report", "--keep", "1s");
        Assert.True(keep.ExitCode == 0, keep.ToString());
        Assert.Contains("Deleted 3 sessions (1, 2, 3;", keep.Stdout);
        using (var store = SnapperDatabase.Open(db, create: false))
        {
            var left = Assert.Single(SessionQueries.List(store));
            var profile = ProfileReader.Load(store, left);
            Assert.Equal(20, profile.Session.SnapshotCount);
            Assert.All(profile.Samples, s => Assert.True(s.StackId == 0 || profile.Stacks.ContainsKey(s.StackId)));
            Assert.Contains(profile.Frames.Values, f => f.MethodName == "Spin");
        }
        var report = SnapperCli.Run("report", "--db", db, "--format", "text");
        Assert.True(report.ExitCode == 0, report.ToString());
        Assert.Contains("Snapper.TestTarget.Spinner.Spin", report.Stdout);
        using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        connection.Open();
        using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check;";
        Assert.Equal("ok", check.ExecuteScalar());
    }

    [Fact]
    public void Several_sessions_aggregate_into_one_report_with_threads_merged_by_name()
    {
        using var dir = new TempDirectory();
        var name = UniqueName();
        using var target = StartNamed(dir, name);
        var db = dir.File("s.db");
        for (var i = 0; i < 3; i++)
            Assert.Equal(0, SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "20", "--db", db, "--no-report", "--quiet").ExitCode);

        var all = SnapperCli.Run("report", "--db", db, "--since", "1h", "--name", name, "--format", "json", "--idle");
        Assert.True(all.ExitCode == 0, all.ToString());
        using (var json = System.Text.Json.JsonDocument.Parse(all.Stdout))
        {
            var root = json.RootElement;
            Assert.Equal([1L, 2L, 3L], root.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("id").GetInt64()));
            Assert.Equal(60, root.GetProperty("session").GetProperty("snapshots").GetInt32());
            var spinner = Assert.Single(root.GetProperty("threads").EnumerateArray(), t => t.GetProperty("name").GetString() == "Spinner");
            Assert.Equal(60, spinner.GetProperty("samples").GetInt64()); // one thread over three captures
            Assert.Equal(root.GetProperty("session").GetProperty("samples").GetInt64(), root.GetProperty("view").GetProperty("samples").GetInt64());
        }

        var two = SnapperCli.Run("report", "--db", db, "--sessions", "3,1", "--format", "text");
        Assert.True(two.ExitCode == 0, two.ToString());
        Assert.Contains("sessions 1, 3 (2 captures)", two.Stdout);
        var html = SnapperCli.Run("report", "--db", db, "--sessions", "1,2,3");
        Assert.True(html.ExitCode == 0, html.ToString());
        Assert.True(File.Exists(dir.File("s-sessions-1-3.html")), html.ToString());

        CliErrorTests.AssertError(SnapperCli.Run("report", "--db", db, "--since", "1h", "--session", "2"), 2, "one of --session, --sessions and --since");
        CliErrorTests.AssertError(SnapperCli.Run("report", "--db", db, "--sessions", "1,99"), 10, "no session 99");
        CliErrorTests.AssertError(SnapperCli.Run("report", "--db", db, "--since", "1h", "--name", "Other" + name), 10, "no sessions of");
    }

    [Fact]
    public void Diff_names_what_grew_and_what_shrank()
    {
        using var dir = new TempDirectory();
        var db = dir.File("s.db");
        using (var before = RunningTarget.StartTestTarget("states"))
            Assert.Equal(0, SnapperCli.Run("sample", "--pid", before.Pid.ToString(), "--count", "40", "--db", db, "--no-report", "--quiet").ExitCode);
        using (var after = RunningTarget.StartTestTarget("split"))
            Assert.Equal(0, SnapperCli.Run("sample", "--pid", after.Pid.ToString(), "--count", "40", "--db", db, "--no-report", "--quiet").ExitCode);

        var json = SnapperCli.Run("diff", "--db", db, "--base", "1", "--compare", "2", "--format", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using (var doc = System.Text.Json.JsonDocument.Parse(json.Stdout))
        {
            var root = doc.RootElement;
            var regressions = root.GetProperty("regressions").EnumerateArray().Select(e => e.GetString()).ToList();
            var improvements = root.GetProperty("improvements").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Contains("Snapper.TestTarget.Split.Burn", regressions);
            Assert.Contains("Snapper.TestTarget.StateSpinner.Spin", improvements);
            var seventy = root.GetProperty("functions").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "Snapper.TestTarget.Split.Seventy");
            Assert.Equal(0, seventy.GetProperty("baseTotal").GetDouble());
            Assert.True(seventy.GetProperty("totalDelta").GetDouble() > 10, seventy.ToString());
        }
        var text = SnapperCli.Run("diff", "--db", db, "--base", "1", "--compare", "2", "--format", "text");
        Assert.Contains("Regressions", text.Stdout);
        Assert.Contains("Snapper.TestTarget.StateSpinner.Spin", text.Stdout);
        var html = SnapperCli.Run("diff", "--db", db, "--base", "1", "--compare", "2");
        Assert.True(html.ExitCode == 0 && File.Exists(dir.File("s-diff-1-vs-2.html")), html.ToString());
        CliErrorTests.AssertError(SnapperCli.Run("diff", "--db", db, "--base", "1", "--compare", "99"), 10, "no session 99");
        CliErrorTests.AssertError(SnapperCli.Run("diff", "--db", db, "--base", "x", "--compare", "2"), 2, "--base must be session ids");
    }

    [Fact]
    public void A_launched_command_is_profiled_from_its_start_until_it_exits()
    {
        using var dir = new TempDirectory();
        var db = dir.File("s.db");

        var run = SnapperCli.Run("sample", "--db", db, "--no-report", "--",
            Dotnet.Host, Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll"), "exit-after", "1500");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("READY", run.Stdout); // the command keeps the terminal
        var profile = ProfileQueries.LoadLatest(db);
        Assert.Equal(SessionEndReason.TargetExited, profile.Session.EndReason);
        Assert.True(profile.Session.SnapshotCount > 50, $"{profile.Session.SnapshotCount} snapshots");
        Assert.Contains(profile.Frames.Values, f => f.TypeName == "Snapper.TestTarget.Spinner" && f.MethodName == "Spin");

        CliErrorTests.AssertError(SnapperCli.Run("sample", "--db", db, "--", "/bin/false"), 3, "exited before its .NET runtime could be read");
        CliErrorTests.AssertError(SnapperCli.Run("sample", "--db", db, "--pid", "1", "--", "/bin/true"), 2, "not several");
    }

    static int SessionRows(SnapperCli.Result result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => char.IsDigit(l.TrimStart().FirstOrDefault()));
    }
}
