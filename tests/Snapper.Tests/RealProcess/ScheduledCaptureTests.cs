using System.Diagnostics;
using System.Text.RegularExpressions;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// The scheduled-capture examples (examples/cron) as shipped: the crontab line and the systemd units parse, and their
/// command lines, run as cron and systemd would run them, capture silently; two captures of different targets
/// started together share one database.
/// </summary>
public sealed partial class ScheduledCaptureTests
{
    static readonly string Examples = Path.Combine(Repository.Root, "examples", "cron");

    [Fact]
    public void The_crontab_line_parses_and_its_command_captures_silently()
    {
        var lines = File.ReadAllLines(Path.Combine(Examples, "snapper.cron"))
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.Contains('=')).ToList();
        var entry = Assert.Single(lines);
        // minute hour day month weekday user command
        var fields = Regex.Split(entry.Trim(), @"\s+", RegexOptions.None, TimeSpan.FromSeconds(1));
        Assert.True(fields.Length > 7, entry);
        Assert.Equal(["0", "*", "*", "*", "*"], fields[..5]);
        Assert.Equal("root", fields[5]);
        Assert.Equal("/usr/local/bin/snapper", fields[6]);

        RunAsScheduled(string.Join(' ', fields[6..]), "Orders", "/var/lib/snapper/orders.db");
    }

    [SkippableFact]
    public void The_systemd_units_verify_and_the_service_command_captures_silently()
    {
        var service = File.ReadAllText(Path.Combine(Examples, "snapper-capture@.service"));
        var execStart = ExecStart().Match(service).Groups[1].Value;
        Assert.StartsWith("/usr/local/bin/snapper sample --name %i", execStart);

        var canVerify = File.Exists("/usr/bin/systemd-analyze");
        if (canVerify)
        {
            // verify checks that ExecStart's program exists: point it at one that does, for an instance "Orders".
            using var units = new TempDirectory();
            File.WriteAllText(units.File("snapper-capture@Orders.service"), service.Replace("/usr/local/bin/snapper", "/bin/true"));
            File.Copy(Path.Combine(Examples, "snapper-capture@.timer"), units.File("snapper-capture@Orders.timer"));
            var verify = Process.Start(new ProcessStartInfo("/usr/bin/systemd-analyze",
                ["verify", units.File("snapper-capture@Orders.service"), units.File("snapper-capture@Orders.timer")])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            })!;
            var errors = verify.StandardError.ReadToEnd() + verify.StandardOutput.ReadToEnd();
            Assert.True(verify.WaitForExit(30_000), "systemd-analyze verify hung");
            Assert.True(verify.ExitCode == 0, errors);
        }

        RunAsScheduled(execStart.Replace("%i", "Orders"), "Orders", "/var/lib/snapper/Orders.db");
        // The command was run; only the units' verification is left undone, and the skip says so.
        Prerequisite.Require(canVerify, "systemd-analyze is missing: the example units were not verified (install systemd)");
    }

    [Fact]
    public void Two_captures_of_different_targets_started_together_both_succeed_into_one_database()
    {
        using var dir = new TempDirectory();
        using var first = RunningTarget.StartTestTarget("mixed");
        using var second = RunningTarget.StartTestTarget("mixed");
        var db = dir.File("shared.db");

        var captures = new[] { first, second }
            .Select(t => Process.Start(SnapperCli.StartInfo("sample", "--pid", t.Pid.ToString(), "--duration", "3s", "--rate", "100", "--db", db, "--no-report", "--quiet"))!)
            .ToList();
        var results = captures.Select(c => SnapperCli.Wait(c, TimeSpan.FromMinutes(1))).ToList();

        Assert.All(results, r => Assert.True(r.ExitCode == 0 && r.Stderr.Length == 0, r.ToString()));
        using var store = SnapperDatabase.Open(db, create: false);
        var sessions = SessionQueries.List(store);
        Assert.Equal([first.Pid, second.Pid], sessions.Select(s => s.Target.Pid).Order().ToArray());
        // Both ran their course and stored their samples: the store never refused a write ("database is locked" would
        // have ended a capture as failed). A snapshot may fail when the machine is too busy to stop a thread in time.
        Assert.All(sessions, s => Assert.True(s.EndReason == SessionEndReason.DurationReached && s.SnapshotCount > 150 && s.FailedCount <= s.SnapshotCount / 20,
            $"session {s.Id}: {s.EndReason}, {s.SnapshotCount} snapshots, {s.FailedCount} failed"));
    }

    /// <summary>
    /// Runs a scheduled command line through /bin/sh as cron or systemd would, with the snapper on this machine in
    /// place of /usr/local/bin/snapper, a test target under the name the example uses, and a temporary database.
    /// </summary>
    static void RunAsScheduled(string commandLine, string name, string dbInExample)
    {
        using var dir = new TempDirectory();
        var source = AppContext.BaseDirectory;
        File.Copy(Path.Combine(source, "Snapper.TestTarget.dll"), dir.File(name + ".dll"));
        File.Copy(Path.Combine(source, "Snapper.TestTarget.runtimeconfig.json"), dir.File(name + ".runtimeconfig.json"));
        // Another test's process may carry the example's name too: give this one a name of its own.
        var unique = name + Guid.NewGuid().ToString("N")[..8];
        File.Move(dir.File(name + ".dll"), dir.File(unique + ".dll"));
        File.Move(dir.File(name + ".runtimeconfig.json"), dir.File(unique + ".runtimeconfig.json"));
        using var target = RunningTarget.StartAndWait(new ProcessStartInfo(Dotnet.Host, [dir.File(unique + ".dll"), "mixed"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        });
        var wrapper = dir.File("snapper");
        File.WriteAllText(wrapper, $"#!/bin/sh\nexec '{Dotnet.Host}' '{Path.Combine(source, "snapper.dll")}' \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var db = dir.File("scheduled.db");
        var command = commandLine.Replace("/usr/local/bin/snapper", wrapper).Replace(dbInExample, db)
            .Replace("--name " + name, "--name " + unique).Replace("--duration 30s", "--duration 2s");

        var run = SnapperCli.Wait(Process.Start(new ProcessStartInfo("/bin/sh", ["-c", command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!, TimeSpan.FromMinutes(1));

        Assert.True(run.ExitCode == 0, $"{command}\n{run}");
        Assert.Equal("", run.Stdout + run.Stderr); // cron would mail anything printed
        Assert.Equal(target.Pid, ProfileQueries.LoadLatest(db).Session.Target.Pid);

        // The service is down: still silent, still success.
        var down = SnapperCli.Wait(Process.Start(new ProcessStartInfo("/bin/sh", ["-c", command.Replace(unique, unique + "Gone")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!, TimeSpan.FromMinutes(1));
        Assert.Equal((0, ""), (down.ExitCode, down.Stdout + down.Stderr));
    }


    [GeneratedRegex(@"^ExecStart=(.+)$", RegexOptions.Multiline)]
    private static partial Regex ExecStart();
}
