using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Snapper killed outright (SIGKILL) 100 times at random moments of a fast capture: while it starts and attaches,
/// and while it stops, walks and resumes threads, with a store being written hard. The kernel must detach it and
/// the target must run on, never left stopped, still doing its work; the store must stay whole, keep every batch it
/// committed, and mark each killed session abandoned.
/// </summary>
public sealed class KillSafetyTests
{
    const int Kills = 100;

    [Fact]
    public void SIGKILL_at_random_moments_never_harms_the_target_or_the_store()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("mixed");
        var db = dir.File("s.db");
        var random = new Random(20261121);
        for (var round = 0; round < Kills; round++)
        {
            var before = StoredSnapshots(db);
            using var snapper = Process.Start(SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--rate", "500",
                "--duration", "1m", "--db", db, "--no-report", "--quiet"))!;
            // A fifth of the kills land while Snapper starts and attaches; the rest once it is sampling and storing.
            if (round % 5 == 0) Thread.Sleep(random.Next(100, 700));
            else
            {
                WaitUntil(() => StoredSnapshots(db) > before, snapper);
                Thread.Sleep(random.Next(0, 150));
            }
            Assert.Equal(0, Native.Kill(snapper.Id, Native.SIGKILL));
            Assert.True(snapper.WaitForExit(10_000));

            // The kernel detaches a dead tracer's tracees as it exits; give it a moment, then look at every thread.
            var deadline = DateTime.UtcNow.AddSeconds(2);
            while (target.AnyThreadStopped() && DateTime.UtcNow < deadline) Thread.Sleep(10);
            Assert.False(target.AnyThreadStopped(), $"kill {round}: the target was left stopped");
            Assert.False(target.Process.HasExited, $"kill {round}: the target died");
            AssertStoreWhole(db, round);
        }

        // Every killed session reads as abandoned, with what it committed.
        var sessions = SnapperCli.Run("sessions", "--db", db);
        Assert.True(sessions.ExitCode == 0, sessions.ToString());
        using (var store = SnapperDatabase.Open(db, create: false))
            Assert.All(SessionQueries.List(store), s => Assert.Equal(SessionEndReason.Abandoned, s.EndReason));
        // And the spinner still spins: a last capture sees it in its loop.
        var final = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "20", "--db", dir.File("final.db"), "--no-report");
        Assert.True(final.ExitCode == 0, final.ToString());
        var spins = ProfileQueries.StacksOf(ProfileQueries.LoadLatest(dir.File("final.db")), "Spinner");
        Assert.True(spins.Count(s => s.Any(f => f.DisplayName == "Snapper.TestTarget.Spinner.Spin")) >= 18);
    }

    /// <summary>
    /// integrity_check passes, and every session's snapshots are whole batches: numbered 0..n-1 without a gap, each
    /// one's packed samples all there (a batch is one transaction: all of it or none).
    /// </summary>
    static void AssertStoreWhole(string db, int round)
    {
        if (!File.Exists(db)) return; // killed before the store was created
        using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        connection.Open();
        using (var check = connection.CreateCommand())
        {
            check.CommandText = "PRAGMA integrity_check;";
            Assert.Equal("ok", check.ExecuteScalar());
        }
        // A kill after SQLite created the file but before the schema's transaction committed leaves an empty store,
        // which the next open fills in. The schema is all or nothing: no table at all, or every one.
        if (!Tables(connection).Contains("snapshots"))
        {
            Assert.True(Tables(connection).Count == 0, $"kill {round}: a half-made schema: {string.Join(", ", Tables(connection))}");
            return;
        }
        using var snapshots = connection.CreateCommand();
        snapshots.CommandText = "SELECT session_id, count(*), min(seq), max(seq), sum(sample_count) FROM snapshots GROUP BY session_id;";
        using var reader = snapshots.ExecuteReader();
        while (reader.Read())
        {
            var (session, count, first, last) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
            Assert.True(first == 0 && last == count - 1, $"kill {round}: session {session} has snapshots {first}..{last} but {count} of them");
        }
        using var packed = connection.CreateCommand();
        packed.CommandText = "SELECT seq, sample_count, samples FROM snapshots WHERE session_id = (SELECT max(session_id) FROM snapshots);";
        using var rows = packed.ExecuteReader();
        while (rows.Read())
        {
            var samples = new List<Sample>();
            SnapshotSamples.Unpack(rows.GetInt32(0), (byte[])rows.GetValue(2), samples);
            Assert.Equal(rows.GetInt32(1), samples.Count);
        }
    }

    static List<string> Tables(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table';";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read()) names.Add(reader.GetString(0));
        return names;
    }

    internal static long StoredSnapshots(string db)
    {
        if (!File.Exists(db)) return 0;
        try
        {
            using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM snapshots;";
            return Convert.ToInt64(command.ExecuteScalar());
        }
        catch (SqliteException)
        {
            return 0; // being created
        }
    }

    static void WaitUntil(Func<bool> condition, Process snapper)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (snapper.HasExited) throw new Xunit.Sdk.XunitException($"snapper exited with {snapper.ExitCode} before storing anything");
            if (DateTime.UtcNow > deadline) throw new TimeoutException("snapper stored nothing in 30 s");
            Thread.Sleep(20);
        }
    }
}
