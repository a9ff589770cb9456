using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Snapper.Store;

namespace Snapper.ReportBenchmark;

/// <summary>
/// The history goals (issue "Profiling over time"): how many bytes a sample adds to the store when stacks repeat,
/// `snapper report --since` over 100 sessions of 10,000 samples, and `snapper prune` of half of a 1 GB store.
/// </summary>
static class HistoryBenchmark
{
    public static void Run(string dir, string snapper)
    {
        var rows = new List<(string Measure, string Result, string Goal)>();

        // 1. Growth per sample for repeated stacks: 20 threads blocked in one stack each, 100,000 samples.
        var growthDb = Path.Combine(dir, "growth.db");
        using (var db = SnapperDatabase.Open(growthDb))
        {
            LargeStore.Write(db, samples: 1_000, threads: 20, stacks: 20); // schema, frames and stacks in place first
            var before = SessionPruner.SizeOf(db);
            LargeStore.Write(db, samples: 100_000, threads: 20, stacks: 20, blocked: true);
            Checkpoint(growthDb);
            var after = SessionPruner.SizeOf(db);
            rows.Add(("store growth per sample, repeated stacks", ((after - before) / 100_000.0).ToString("0.0", CultureInfo.InvariantCulture) + " bytes", "≤ 16 bytes"));
        }

        // 2. report --since over 100 sessions of 10,000 samples (20 threads, 2,000 distinct stacks shared between them).
        var historyDb = Path.Combine(dir, "history.db");
        using (var db = SnapperDatabase.Open(historyDb))
            for (var i = 0; i < 100; i++) LargeStore.Write(db, samples: 10_000, threads: 20, stacks: 2_000, seed: i);
        var times = Enumerable.Range(0, 3).Select(_ => Time(snapper, "report", "--db", historyDb, "--since", "1d", "-o", Path.Combine(dir, "history.html"))).Order().ToList();
        rows.Add(("`snapper report --since 1d`, 100 sessions × 10,000 samples", Seconds(times[1]), "≤ 5 s"));

        // 3. prune half of a 1 GB store: the history store copied onto itself until it passes 1 GB, half of it made old.
        var bigDb = Path.Combine(dir, "big.db");
        File.Copy(historyDb, bigDb);
        Grow(bigDb, 1L << 30);
        var size = new FileInfo(bigDb).Length;
        var pruneTime = Time(snapper, "prune", "--db", bigDb, "--older-than", "30d", "--quiet");
        rows.Add(($"`snapper prune` of half of a {size / (double)(1L << 30):0.00} GB store (→ {new FileInfo(bigDb).Length / (double)(1L << 30):0.00} GB)", Seconds(pruneTime), "≤ 30 s"));

        Console.WriteLine("| measure | result | goal |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (measure, result, goal) in rows) Console.WriteLine($"| {measure} | {result} | {goal} |");
    }

    /// <summary>Copies every session (with its snapshots and threads) until the file passes <paramref name="bytes"/>; the older half dates from 60 days ago.</summary>
    static void Grow(string path, long bytes)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        void Execute(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.CommandTimeout = 600;
            command.ExecuteNonQuery();
        }
        while (new FileInfo(path).Length < bytes)
        {
            using (var transaction = connection.BeginTransaction())
            {
                Execute("""
                    CREATE TEMP TABLE copy_map AS SELECT id AS old, id + (SELECT max(id) FROM sessions) AS new FROM sessions;
                    INSERT INTO sessions SELECT m.new, pid, process_name, command_line, runtime_version, host, engine, requested_rate, max_frames,
                        snapper_command_line, started_utc, ended_utc, end_reason, end_message, snapshot_count, late_count, failed_count,
                        sample_count, achieved_rate, pause_p50_us, pause_p99_us, pause_max_us, architecture
                        FROM sessions JOIN copy_map m ON m.old = sessions.id;
                    INSERT INTO snapshots SELECT m.new, seq, offset_us, pause_us, late, sample_count, samples FROM snapshots JOIN copy_map m ON m.old = snapshots.session_id;
                    INSERT INTO session_stacks SELECT m.new, stack_id FROM session_stacks JOIN copy_map m ON m.old = session_stacks.session_id;
                    DROP TABLE copy_map;
                    """);
                transaction.Commit();
            }
            Execute("PRAGMA wal_checkpoint(TRUNCATE);");
        }
        Execute("UPDATE sessions SET started_utc = '2020-01-01T00:00:00.000000Z' WHERE id <= (SELECT max(id) / 2 FROM sessions);");
        Execute("PRAGMA wal_checkpoint(TRUNCATE);");
    }

    static void Checkpoint(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
        command.ExecuteNonQuery();
    }

    static TimeSpan Time(string snapper, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet", [snapper, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"snapper {args[0]} failed: {stderr.Result}");
        return clock.Elapsed;
    }

    static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";
}
