using Microsoft.Data.Sqlite;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.Unit;

public sealed class StoreTests
{
    static readonly SessionTarget Target = new(42, "app", "dotnet app.dll --secret", "10.0.12", "host", "ptrace", 100, 256, "snapper sample --pid 42");
    static readonly FrameInfo Main = new(FrameKind.Managed, "app.dll", "App.Program", "Main");
    static readonly FrameInfo Work = new(FrameKind.Managed, "app.dll", "App.Worker<T>", "<Run>b__0_0");
    static readonly FrameInfo Sleep = new(FrameKind.Transition, "libc", "", "libc!usleep");

    static long WriteSession(SnapperDatabase db, params FrameInfo[][] stacksPerSnapshot)
    {
        using var writer = SessionWriter.Begin(db, Target, new DateTime(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc));
        for (var seq = 0; seq < stacksPerSnapshot.Length; seq++)
        {
            writer.AddSnapshot(new Snapshot(seq, seq * 10_000L, 500 + seq, Late: seq == 1));
            // The thread is renamed after the first sample: the row keeps the newest names.
            var identity = seq == 0 ? new ThreadIdentity(1, null, "app", "main thread") : new ThreadIdentity(1, "Main <thread>", "Main <thread>", "main thread");
            var thread = writer.InternThread(100, identity);
            writer.AddSample(new Sample(seq, thread, writer.InternStack(stacksPerSnapshot[seq]), SampleState.Sleep, SampleActivity.Syscall, 230, 1_000 * seq));
        }
        writer.End(SessionEndReason.CountReached, null, new DateTime(2026, 11, 21, 12, 0, 1, DateTimeKind.Utc), failedSnapshots: 2);
        return writer.SessionId;
    }

    [Fact]
    public void Round_trip_keeps_every_field_and_stack_order()
    {
        using var dir = new TempDirectory();
        using var db = SnapperDatabase.Open(dir.File("s.db"));
        var id = WriteSession(db, [Main, Work, Sleep], [Main, Work], [Main, Work, Sleep]);

        var session = SessionQueries.Find(db, id)!;
        Assert.Equal(Target, session.Target);
        Assert.Equal(SessionEndReason.CountReached, session.EndReason);
        Assert.Equal(3, session.SnapshotCount);
        Assert.Equal(3, session.SampleCount);
        Assert.Equal(1, session.LateCount);
        Assert.Equal(2, session.FailedCount);
        Assert.Equal(100, session.AchievedRate, 3); // 2 intervals over 20 ms
        Assert.Equal(new PauseStats(501, 502, 502), session.Pause);
        Assert.Equal(new DateTime(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc), session.StartedUtc);

        var profile = ProfileReader.Load(db, session);
        // Stored with CPU while asleep at their snapshots, the last two samples' CPU was used between snapshots: it is
        // read back as CPU-only samples of "[ran between samples]", and the sleeping stacks carry none (BetweenSamples).
        var seen = profile.Samples.Where(s => s.Wall == 1).ToList();
        var stacks = seen.Select(s => profile.FramesOf(s.StackId).Select(f => profile.Frames[f]).ToArray()).ToList();
        Assert.Equal(new[] { Main, Work, Sleep }, stacks[0]);
        Assert.Equal(new[] { Main, Work }, stacks[1]);
        Assert.Equal(new ThreadInfo(1, 100, 1, "Main <thread>", "Main <thread>", "main thread"), Assert.Single(profile.Threads));
        Assert.Equal(new Sample(2, 1, seen[2].StackId, SampleState.Sleep, SampleActivity.Syscall, 230, 0), seen[2]);
        var between = profile.Samples.Where(s => s.Wall == 0).ToList();
        Assert.Equal([(1, 1_000L), (2, 2_000L)], between.Select(s => (s.Sequence, s.CpuNs)));
        Assert.All(between, s => Assert.Equal((SampleState.Cpu, SampleActivity.BetweenSamples), (s.State, s.Activity)));
        Assert.All(between, s => Assert.Equal([new FrameInfo(FrameKind.Transition, "", "", BetweenSamples.FrameName)],
            profile.FramesOf(s.StackId).Select(f => profile.Frames[f])));
        Assert.Equal("clock_nanosleep", SyscallNames.Name(session.Target.Architecture, seen[2].Syscall));
    }

    [Fact]
    public void A_store_of_the_first_schema_is_upgraded_in_place_and_keeps_its_sessions()
    {
        using var dir = new TempDirectory();
        var path = dir.File("old.db");
        using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var command = old.CreateCommand();
            command.CommandText = """
                CREATE TABLE sessions(id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, process_name TEXT NOT NULL, command_line TEXT NOT NULL,
                    runtime_version TEXT NOT NULL, host TEXT NOT NULL, engine TEXT NOT NULL, requested_rate REAL NOT NULL,
                    max_frames INTEGER NOT NULL, snapper_command_line TEXT NOT NULL, started_utc TEXT NOT NULL, ended_utc TEXT,
                    end_reason TEXT NOT NULL, end_message TEXT, snapshot_count INTEGER NOT NULL DEFAULT 0, late_count INTEGER NOT NULL DEFAULT 0,
                    failed_count INTEGER NOT NULL DEFAULT 0, sample_count INTEGER NOT NULL DEFAULT 0, achieved_rate REAL NOT NULL DEFAULT 0,
                    pause_p50_us INTEGER NOT NULL DEFAULT 0, pause_p99_us INTEGER NOT NULL DEFAULT 0, pause_max_us INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE frames(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, module TEXT NOT NULL, type_name TEXT NOT NULL,
                    method_name TEXT NOT NULL, file TEXT NOT NULL DEFAULT '', line INTEGER NOT NULL DEFAULT 0,
                    UNIQUE(kind, module, type_name, method_name, file, line));
                CREATE TABLE stacks(id INTEGER PRIMARY KEY, parent INTEGER NOT NULL, frame INTEGER NOT NULL, UNIQUE(parent, frame));
                CREATE TABLE threads(id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, os_tid INTEGER NOT NULL, managed_id INTEGER NOT NULL, name TEXT);
                CREATE TABLE snapshots(session_id INTEGER NOT NULL, seq INTEGER NOT NULL, offset_us INTEGER NOT NULL, pause_us INTEGER NOT NULL,
                    late INTEGER NOT NULL, PRIMARY KEY(session_id, seq)) WITHOUT ROWID;
                CREATE TABLE samples(session_id INTEGER NOT NULL, seq INTEGER NOT NULL, thread_id INTEGER NOT NULL, stack_id INTEGER NOT NULL,
                    PRIMARY KEY(session_id, seq, thread_id)) WITHOUT ROWID;
                INSERT INTO sessions(id, pid, process_name, command_line, runtime_version, host, engine, requested_rate, max_frames,
                    snapper_command_line, started_utc, end_reason) VALUES(1, 7, 'old', 'old', '9.0.1', 'h', 'ptrace', 10, 64, 'snapper', '2026-01-01T00:00:00.000000Z', 'CountReached');
                INSERT INTO threads VALUES(1, 1, 70, 1, 'Main');
                INSERT INTO snapshots VALUES(1, 0, 0, 5, 0);
                INSERT INTO samples VALUES(1, 0, 1, 0);
                PRAGMA user_version = 1;
                """;
            command.ExecuteNonQuery();
        }
        using var db = SnapperDatabase.Open(path);
        var session = SessionQueries.Find(db, 1)!;
        Assert.Equal("x64", session.Target.Architecture);
        Assert.Null(session.Focus); // a capture before focus existed kept every sample
        var profile = ProfileReader.Load(db, session);
        Assert.Equal(new Sample(0, 1, 0, SampleState.Unknown, SampleActivity.Unknown, -1, 0), Assert.Single(profile.Samples));
        Assert.Equal("Main", Assert.Single(profile.Threads).DisplayName);
    }

    [Fact]
    public void A_focused_session_records_its_pattern_and_counts()
    {
        using var dir = new TempDirectory();
        var path = dir.File("s.db");
        using (var db = SnapperDatabase.Open(path))
        using (var writer = SessionWriter.Begin(db, Target, DateTime.UtcNow))
        {
            writer.AddSnapshot(new Snapshot(0, 0, 1, false));
            writer.RecordFocus(new FocusCounts("Orders.Checkout", 120, 7));
            writer.End(SessionEndReason.FocusCountReached, null, DateTime.UtcNow, 0);
        }
        using var reopened = SnapperDatabase.Open(path);
        var session = SessionQueries.Find(reopened, null)!;
        Assert.Equal(new FocusCounts("Orders.Checkout", 120, 7), session.Focus);
        Assert.Equal(SessionEndReason.FocusCountReached, session.EndReason);
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False;Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        Assert.Equal(8L, Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)); // focus came with 4
    }

    [Fact]
    public void A_store_of_schema_4_is_upgraded_to_5_and_sessions_then_keep_snapper_errors_apart()
    {
        using var dir = new TempDirectory();
        var path = dir.File("s.db");
        using (var db = SnapperDatabase.Open(path))
            WriteSession(db, [Main, Work]);
        // Schema 5 only added session_errors (6 sessions.run_state, 7 the overhead's columns and table): without them, and
        // at version 4, the file is what Snapper wrote before.
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DROP TABLE lock_waits; DROP TABLE session_locks; DROP TABLE session_rate_changes; ALTER TABLE snapshots DROP COLUMN weight; ALTER TABLE sessions DROP COLUMN max_overhead; ALTER TABLE sessions DROP COLUMN pause_share; ALTER TABLE sessions DROP COLUMN cpu_share; DROP TABLE session_errors; ALTER TABLE sessions DROP COLUMN run_state; PRAGMA user_version = 4;";
            command.ExecuteNonQuery();
        }

        using (var db = SnapperDatabase.Open(path))
        {
            var old = SessionQueries.Find(db, 1)!;
            Assert.Empty(old.InternalErrors);
            Assert.Equal(2, old.FailedCount);
            using var writer = SessionWriter.Begin(db, Target, DateTime.UtcNow);
            writer.AddSnapshot(new Snapshot(0, 0, 1, false));
            writer.End(SessionEndReason.CountReached, null, DateTime.UtcNow, failedSnapshots: 1,
                [new InternalError("NullReferenceException in FrameResolver.Resolve: Object reference not set", 3), new InternalError("InvalidCastException: x", 1)]);
        }
        using (var reopened = SnapperDatabase.Open(path))
        {
            Assert.Equal(8L, Scalar(reopened, "PRAGMA user_version;"));
            var session = SessionQueries.Find(reopened, 2)!;
            Assert.Equal(1, session.FailedCount); // failed snapshots and Snapper's errors are counted apart
            Assert.Equal([new InternalError("NullReferenceException in FrameResolver.Resolve: Object reference not set", 3), new InternalError("InvalidCastException: x", 1)],
                session.InternalErrors);
            var both = ProfileReader.LoadMany(reopened, SessionQueries.List(reopened));
            Assert.Equal(4, both.Session.InternalErrors.Sum(e => e.Count));

            SessionPruner.Prune(reopened, DateTime.UtcNow.AddDays(1), null, dryRun: false);
            Assert.Empty(SessionQueries.List(reopened));
            Assert.Equal(0L, Scalar(reopened, "SELECT count(*) FROM session_errors;"));
        }
    }

    [Fact]
    public void A_store_of_schema_5_is_upgraded_to_6_and_lock_waits_give_their_cpu_away_only_where_the_run_state_was_read()
    {
        using var dir = new TempDirectory();
        var path = dir.File("s.db");
        using (var db = SnapperDatabase.Open(path))
            WriteLockWait(db, Target);
        // Schema 6 only added sessions.run_state (7 the overhead's): without them, and at version 5, the file is what Snapper wrote before.
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DROP TABLE lock_waits; DROP TABLE session_locks; DROP TABLE session_rate_changes; ALTER TABLE snapshots DROP COLUMN weight; ALTER TABLE sessions DROP COLUMN max_overhead; ALTER TABLE sessions DROP COLUMN pause_share; ALTER TABLE sessions DROP COLUMN cpu_share; ALTER TABLE sessions DROP COLUMN run_state; PRAGMA user_version = 5;";
            command.ExecuteNonQuery();
        }
        using (var db = SnapperDatabase.Open(path))
            WriteLockWait(db, Target with { KnowsRunState = true });

        using var reopened = SnapperDatabase.Open(path);
        Assert.Equal(8L, Scalar(reopened, "PRAGMA user_version;"));
        var (old, now) = (SessionQueries.Find(reopened, 1)!, SessionQueries.Find(reopened, 2)!);
        Assert.False(old.Target.KnowsRunState);
        Assert.True(now.Target.KnowsRunState);
        // Before, "lock/wait" also held threads running in system calls Snapper could not name: their CPU stays.
        Assert.Equal([5_000L], ProfileReader.Load(reopened, old).Samples.Select(s => s.CpuNs));
        // Now it means asleep: the CPU ran between the snapshots.
        var split = ProfileReader.Load(reopened, now).Samples;
        Assert.Equal([(SampleActivity.Syscall, 0L), (SampleActivity.BetweenSamples, 5_000L)], split.Select(s => (s.Activity, s.CpuNs)));
        // Both in one profile: each session by its own rule.
        var both = ProfileReader.LoadMany(reopened, [old, now]).Samples;
        Assert.Equal(10_000L, both.Sum(s => s.CpuNs));
        Assert.Equal(5_000L, both.Where(s => s.Activity == SampleActivity.BetweenSamples).Sum(s => s.CpuNs));
    }

    [Fact]
    public void A_store_of_schema_6_is_upgraded_to_7_and_samples_count_their_snapshots_weight()
    {
        using var dir = new TempDirectory();
        var path = dir.File("s.db");
        using (var db = SnapperDatabase.Open(path))
            WriteWeighted(db, weights: [1, 1], overhead: null, budget: null);
        // Schema 7 only added the snapshots' weight and the overhead's columns and table.
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DROP TABLE lock_waits; DROP TABLE session_locks; DROP TABLE session_rate_changes; ALTER TABLE snapshots DROP COLUMN weight; ALTER TABLE sessions DROP COLUMN max_overhead; ALTER TABLE sessions DROP COLUMN pause_share; ALTER TABLE sessions DROP COLUMN cpu_share; PRAGMA user_version = 6;";
            command.ExecuteNonQuery();
        }
        using (var db = SnapperDatabase.Open(path))
            WriteWeighted(db, weights: [1, 3], overhead: (0.01, 0.04), budget: 0.05);

        using var reopened = SnapperDatabase.Open(path);
        Assert.Equal(8L, Scalar(reopened, "PRAGMA user_version;"));
        var (old, now) = (SessionQueries.Find(reopened, 1)!, SessionQueries.Find(reopened, 2)!);
        Assert.Null(old.Overhead); // not measured then
        Assert.Equal([1, 1], ProfileReader.Load(reopened, old).Samples.Select(s => s.Wall));
        var overhead = now.Overhead!;
        Assert.Equal((0.05, 0.01, 0.04, 0.04), (overhead.Budget, overhead.PauseShare, overhead.CpuShare, overhead.Overhead));
        Assert.Equal([new RateChange(15_000, 3, 0.02, 0.09)], overhead.Changes);
        // The second snapshot stood for three intervals: its sample counts three times, its CPU once.
        var samples = ProfileReader.Load(reopened, now).Samples;
        Assert.Equal([1, 3], samples.Select(s => s.Wall));
        Assert.Equal([1_000L, 1_000L], samples.Select(s => s.CpuNs));
        // So in a profile of both sessions.
        Assert.Equal([1, 1, 1, 3], ProfileReader.LoadMany(reopened, [old, now]).Samples.Select(s => s.Wall));
    }

    [Fact]
    public void A_store_of_schema_7_is_upgraded_to_8_and_keeps_each_lock_wait_with_its_holder()
    {
        using var dir = new TempDirectory();
        var path = dir.File("s.db");
        using (var db = SnapperDatabase.Open(path))
            WriteWeighted(db, weights: [1], overhead: null, budget: null);
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DROP TABLE lock_waits; DROP TABLE session_locks; PRAGMA user_version = 7;";
            command.ExecuteNonQuery();
        }
        using (var db = SnapperDatabase.Open(path))
        {
            WriteContended(db, 0x7f00_0000_1000, new DateTime(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc));
            WriteContended(db, 0x7f00_0000_2000, new DateTime(2026, 11, 21, 12, 1, 0, DateTimeKind.Utc));
        }

        using var reopened = SnapperDatabase.Open(path);
        Assert.Equal(8L, Scalar(reopened, "PRAGMA user_version;"));
        var (old, first, second) = (SessionQueries.Find(reopened, 1)!, SessionQueries.Find(reopened, 2)!, SessionQueries.Find(reopened, 3)!);
        Assert.Empty(ProfileReader.Load(reopened, old).LockWaits);
        var profile = ProfileReader.Load(reopened, first);
        var ledger = new LockInfo(1, LockKind.Monitor, "App.Ledger", 0x7f00_0000_1000);
        Assert.Equal([ledger, new LockInfo(2, LockKind.Lock, "System.Threading.Lock", 0x7f00_0000_1000 + 64)], profile.Locks);
        var waiter = profile.Threads.Single(t => t.Name == "Waiter").Id;
        var holder = profile.Threads.Single(t => t.Name == "Holder").Id;
        // One row per waiting sample; the second snapshot's holder was not named (a hand-over).
        Assert.Equal([new LockWaitSample(0, waiter, 1, holder), new LockWaitSample(1, waiter, 1, null), new LockWaitSample(1, holder, 2, null)],
            profile.LockWaits);

        // Two sessions as one profile: lock ids and snapshots renumbered, threads merged by name.
        var both = ProfileReader.LoadMany(reopened, [first, second]);
        Assert.Equal([1, 2, 3, 4], both.Locks.Select(l => l.Id));
        Assert.Equal(0x7f00_0000_2000UL, both.Locks[2].Address);
        var mergedWaiter = both.Threads.Single(t => t.Name == "Waiter").Id;
        var mergedHolder = both.Threads.Single(t => t.Name == "Holder").Id;
        Assert.Equal([(0, 1, mergedHolder), (1, 1, null), (1, 2, null), (2, 3, mergedHolder), (3, 3, null), (3, 4, null)],
            both.LockWaits.Select(w => (w.Sequence, w.LockId, w.OwnerThreadId)));
        Assert.All(both.LockWaits.Where(w => w.LockId % 2 == 1), w => Assert.Equal(mergedWaiter, w.ThreadId));

        // Pruning a session takes its locks and waits with it.
        Assert.Equal([first.Id], SessionPruner.Prune(reopened, new DateTime(2026, 11, 21, 12, 0, 30, DateTimeKind.Utc), null, dryRun: false).Deleted.Select(d => d.Id));
        Assert.Equal(2L, Scalar(reopened, "SELECT count(*) FROM session_locks;"));
        Assert.Equal(3L, Scalar(reopened, "SELECT count(*) FROM lock_waits;"));
    }

    static void WriteContended(SnapperDatabase db, ulong ledgerAddress, DateTime startedUtc)
    {
        using var writer = SessionWriter.Begin(db, Target, startedUtc);
        var waiter = writer.InternThread(100, new ThreadIdentity(1, "Waiter", "Waiter", null));
        var holder = writer.InternThread(101, new ThreadIdentity(2, "Holder", "Holder", null));
        var ledger = writer.InternLock(LockKind.Monitor, "App.Ledger", ledgerAddress);
        for (var seq = 0; seq < 2; seq++)
        {
            writer.AddSnapshot(new Snapshot(seq, seq * 10_000, 100, false));
            writer.AddSample(new Sample(seq, waiter, writer.InternStack([Main, Work]), SampleState.LockWait, SampleActivity.Syscall, 202, 0));
            writer.AddSample(new Sample(seq, holder, writer.InternStack([Main]), SampleState.Cpu, SampleActivity.ManagedCode, -1, 1_000));
            Assert.Equal(ledger, writer.InternLock(LockKind.Monitor, "App.Ledger", ledgerAddress));
            writer.AddLockWait(new LockWaitSample(seq, waiter, ledger, seq == 0 ? holder : null));
        }
        writer.AddLockWait(new LockWaitSample(1, holder, writer.InternLock(LockKind.Lock, "System.Threading.Lock", ledgerAddress + 64), null));
        writer.End(SessionEndReason.CountReached, null, startedUtc.AddSeconds(1), failedSnapshots: 0);
    }

    static void WriteWeighted(SnapperDatabase db, int[] weights, (double Pause, double Cpu)? overhead, double? budget)
    {
        using var writer = SessionWriter.Begin(db, Target, DateTime.UtcNow);
        if (budget is not null) writer.RecordBudget(budget);
        var thread = writer.InternThread(100, new ThreadIdentity(1, "Worker", "Worker", null));
        for (var i = 0; i < weights.Length; i++)
        {
            writer.AddSnapshot(new Snapshot(i, i * 10_000, 100, false, weights[i]));
            if (weights[i] > 1) writer.RecordRateChange(new RateChange(15_000, weights[i], 0.02, 0.09));
            writer.AddSample(new Sample(i, thread, writer.InternStack([Main, Work]), SampleState.Cpu, SampleActivity.ManagedCode, -1, 1_000));
        }
        writer.End(SessionEndReason.CountReached, null, DateTime.UtcNow, failedSnapshots: 0, overhead: overhead);
    }

    static void WriteLockWait(SnapperDatabase db, SessionTarget target)
    {
        using var writer = SessionWriter.Begin(db, target, DateTime.UtcNow);
        writer.AddSnapshot(new Snapshot(0, 0, 1, false));
        var thread = writer.InternThread(100, new ThreadIdentity(1, "Waiter", "Waiter", null));
        writer.AddSample(new Sample(0, thread, writer.InternStack([Main, Work]), SampleState.LockWait, SampleActivity.Syscall, 202, 5_000));
        writer.End(SessionEndReason.CountReached, null, DateTime.UtcNow, failedSnapshots: 0);
    }

    static long Scalar(SnapperDatabase db, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={db.Path};Pooling=False;Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Frames_and_stacks_are_interned_once_across_sessions()
    {
        using var dir = new TempDirectory();
        using var db = SnapperDatabase.Open(dir.File("s.db"));
        WriteSession(db, [Main, Work, Sleep], [Main, Work, Sleep]);
        WriteSession(db, [Main, Work, Sleep]);

        Assert.Equal(3, Count(db, "frames"));
        Assert.Equal(3, Count(db, "stacks")); // one prefix-tree path, shared
        Assert.Equal(2, SessionQueries.List(db).Count);
        Assert.Equal(2, SessionQueries.Find(db, 1)!.SnapshotCount);
        Assert.Equal(2L, SessionQueries.Find(db, null)!.Id);
    }

    [Fact]
    public void An_uncommitted_batch_is_lost_but_committed_ones_survive()
    {
        using var dir = new TempDirectory();
        var path = dir.File("s.db");
        using (var db = SnapperDatabase.Open(path))
        using (var writer = SessionWriter.Begin(db, Target, DateTime.UtcNow))
        {
            writer.AddSnapshot(new Snapshot(0, 0, 1, false));
            writer.Commit();
            writer.AddSnapshot(new Snapshot(1, 10, 1, false)); // never committed: as if Snapper died here
        }
        using var reopened = SnapperDatabase.Open(path);
        Assert.Equal(1, Count(reopened, "snapshots"));
        Assert.Equal(SessionEndReason.Running, SessionQueries.Find(reopened, null)!.EndReason);
    }

    [Fact]
    public void A_newer_schema_is_refused_with_a_clear_message()
    {
        using var dir = new TempDirectory();
        var path = dir.File("s.db");
        SnapperDatabase.Open(path).Dispose();
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99;";
            command.ExecuteNonQuery();
        }
        var error = Assert.Throws<StoreException>(() => SnapperDatabase.Open(path));
        Assert.Contains("newer than this Snapper understands", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_store_left_empty_by_a_kill_during_its_creation_is_made_on_the_next_open(bool walAlreadySet)
    {
        // A capture killed after SQLite made the file but before the schema's transaction committed leaves this.
        using var dir = new TempDirectory();
        var path = dir.File("s.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = walAlreadySet ? "PRAGMA journal_mode = WAL;" : "SELECT 1;";
            command.ExecuteNonQuery();
        }
        using var db = SnapperDatabase.Open(path);
        var id = WriteSession(db, [Main, Work]);
        Assert.Equal(id, SessionQueries.Find(db, null)!.Id);
    }

    [Fact]
    public void Another_sqlite_database_is_not_mistaken_for_a_store()
    {
        using var dir = new TempDirectory();
        var path = dir.File("other.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE customers(id INTEGER);";
            command.ExecuteNonQuery();
        }
        var error = Assert.Throws<StoreException>(() => SnapperDatabase.Open(path));
        Assert.Contains("not a Snapper store", error.Message);
    }

    [Fact]
    public void Pause_percentiles_use_nearest_rank()
    {
        var pauses = Enumerable.Range(1, 100).Select(i => (long)i).ToList();
        Assert.Equal(new PauseStats(50, 99, 100), PauseStats.From(pauses));
        Assert.Equal(PauseStats.None, PauseStats.From([]));
    }

    static long Count(SnapperDatabase db, string table)
    {
        using var connection = new SqliteConnection($"Data Source={db.Path};Pooling=False;Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {table}";
        return Convert.ToInt64(command.ExecuteScalar());
    }
}

public sealed class SnapshotSamplesTests
{
    [Fact]
    public void Packed_samples_round_trip_every_field_to_the_microsecond()
    {
        Sample[] samples =
        [
            new(7, 12, 4_000_123, SampleState.Cpu, SampleActivity.ManagedCode, -1, 9_999_600),
            new(7, 3, 0, SampleState.IdleThreadPool, SampleActivity.Syscall, 202, 0),
            new(7, 900_000, 17, SampleState.Io, SampleActivity.Syscall, 47, 1_000),
        ];
        var packed = SnapshotSamples.Pack(samples);
        var back = new List<Sample>();
        SnapshotSamples.Unpack(7, packed, back);

        Assert.Equal(samples.OrderBy(s => s.ThreadId).Select(s => s with { CpuNs = (s.CpuNs + 500) / 1000 * 1000 }), back);
    }

    [Fact]
    public void A_blocked_thread_costs_a_few_bytes_a_sample()
    {
        var samples = Enumerable.Range(1, 20).Select(t => new Sample(1, 1000 + t, 30_000 + t, SampleState.LockWait, SampleActivity.Syscall, 202, 0)).ToList();
        // Thread delta 1 (the first id 2), stack 3, state 1, syscall 2, CPU 1: 8 bytes, against ~25 for a row of its own.
        Assert.True(SnapshotSamples.Pack(samples).Length <= 20 * 8 + 1, $"{SnapshotSamples.Pack(samples).Length} bytes for 20 samples");
    }

    [Fact]
    public void Damaged_packed_samples_are_a_store_error_not_a_crash()
    {
        var packed = SnapshotSamples.Pack([new Sample(1, 1, 300, SampleState.Cpu, SampleActivity.ManagedCode, -1, 5_000_000)]);
        Assert.Throws<StoreException>(() => SnapshotSamples.Unpack(1, packed.AsSpan(0, packed.Length - 1), new List<Sample>()));
    }
}
