using Microsoft.Data.Sqlite;

namespace Snapper.Store;

/// <summary>
/// The store's schema and its migrations. <c>PRAGMA user_version</c> is the schema version; each entry of
/// <see cref="Migrations"/> takes the file one version further, so an old store is upgraded in place on open.
/// </summary>
static class Schema
{
    /// <summary>Frames and stacks are interned once per file and shared by every session in it.</summary>
    static readonly string[] Migrations =
    [
        """
        CREATE TABLE sessions(
            id INTEGER PRIMARY KEY,
            pid INTEGER NOT NULL,
            process_name TEXT NOT NULL,
            command_line TEXT NOT NULL,
            runtime_version TEXT NOT NULL,
            host TEXT NOT NULL,
            engine TEXT NOT NULL,
            requested_rate REAL NOT NULL,
            max_frames INTEGER NOT NULL,
            snapper_command_line TEXT NOT NULL,
            started_utc TEXT NOT NULL,
            ended_utc TEXT,
            end_reason TEXT NOT NULL,
            end_message TEXT,
            snapshot_count INTEGER NOT NULL DEFAULT 0,
            late_count INTEGER NOT NULL DEFAULT 0,
            failed_count INTEGER NOT NULL DEFAULT 0,
            sample_count INTEGER NOT NULL DEFAULT 0,
            achieved_rate REAL NOT NULL DEFAULT 0,
            pause_p50_us INTEGER NOT NULL DEFAULT 0,
            pause_p99_us INTEGER NOT NULL DEFAULT 0,
            pause_max_us INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE frames(
            id INTEGER PRIMARY KEY,
            kind INTEGER NOT NULL,
            module TEXT NOT NULL,
            type_name TEXT NOT NULL,
            method_name TEXT NOT NULL,
            file TEXT NOT NULL DEFAULT '',
            line INTEGER NOT NULL DEFAULT 0,
            UNIQUE(kind, module, type_name, method_name, file, line));
        CREATE TABLE stacks(
            id INTEGER PRIMARY KEY,
            parent INTEGER NOT NULL,
            frame INTEGER NOT NULL,
            UNIQUE(parent, frame));
        CREATE TABLE threads(
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL,
            os_tid INTEGER NOT NULL,
            managed_id INTEGER NOT NULL,
            name TEXT);
        CREATE INDEX threads_by_session ON threads(session_id);
        CREATE TABLE snapshots(
            session_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            offset_us INTEGER NOT NULL,
            pause_us INTEGER NOT NULL,
            late INTEGER NOT NULL,
            PRIMARY KEY(session_id, seq)) WITHOUT ROWID;
        CREATE TABLE samples(
            session_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            thread_id INTEGER NOT NULL,
            stack_id INTEGER NOT NULL,
            PRIMARY KEY(session_id, seq, thread_id)) WITHOUT ROWID;
        """,
        // 2: what each thread was doing (state, activity, syscall) and the CPU it used, per sample; thread identity.
        """
        ALTER TABLE sessions ADD COLUMN architecture TEXT NOT NULL DEFAULT 'x64';
        ALTER TABLE threads ADD COLUMN os_name TEXT;
        ALTER TABLE threads ADD COLUMN role TEXT;
        ALTER TABLE samples ADD COLUMN state INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE samples ADD COLUMN activity INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE samples ADD COLUMN syscall INTEGER NOT NULL DEFAULT -1;
        ALTER TABLE samples ADD COLUMN cpu_ns INTEGER NOT NULL DEFAULT 0;
        """,
        // 3: a snapshot's samples packed into its row (SnapshotSamples); the samples table keeps older sessions' rows.
        // session_stacks lists the stacks each session uses, so pruning need not unpack every snapshot.
        """
        ALTER TABLE snapshots ADD COLUMN sample_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE snapshots ADD COLUMN samples BLOB;
        CREATE TABLE session_stacks(
            session_id INTEGER NOT NULL,
            stack_id INTEGER NOT NULL,
            PRIMARY KEY(session_id, stack_id)) WITHOUT ROWID;
        INSERT OR IGNORE INTO session_stacks SELECT DISTINCT session_id, stack_id FROM samples WHERE stack_id <> 0;
        """,
        // 4: a capture with sample --focus keeps only the samples whose stack matches; it records the pattern and how
        // many thread samples it saw and kept. NULL focus: every sample was kept (all sessions before this version).
        """
        ALTER TABLE sessions ADD COLUMN focus TEXT;
        ALTER TABLE sessions ADD COLUMN focus_seen INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sessions ADD COLUMN focus_kept INTEGER NOT NULL DEFAULT 0;
        """,
        // 5: Snapper's own errors during a capture (exceptions that are its bugs, kept apart from the snapshots a live
        // target made fail), counted per reason. Sessions before this version have none recorded.
        """
        CREATE TABLE session_errors(
            session_id INTEGER NOT NULL,
            reason TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY(session_id, reason)) WITHOUT ROWID;
        """,
        // 6: whether the engine read the kernel's run state of each thread at each snapshot (1). Then a sample in a system
        // call whose thread was runnable there is "cpu", and "lock/wait" means asleep waiting, so it gives its CPU to
        // [ran between samples] as sleeping does (see BetweenSamples). 0: sessions before, whose "lock/wait" also holds
        // threads running in system calls Snapper cannot name.
        """
        ALTER TABLE sessions ADD COLUMN run_state INTEGER NOT NULL DEFAULT 0;
        """,
        // 7: the overhead budget (sample --max-overhead). A snapshot's weight is how many requested intervals it stands
        // for (1 unless the budget lowered the rate); every count of samples adds weights. The session keeps its budget
        // (NULL: none), the overhead it measured (NULL: sessions before), and each change of rate with the overhead
        // measured just before it.
        """
        ALTER TABLE snapshots ADD COLUMN weight INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE sessions ADD COLUMN max_overhead REAL;
        ALTER TABLE sessions ADD COLUMN pause_share REAL;
        ALTER TABLE sessions ADD COLUMN cpu_share REAL;
        CREATE TABLE session_rate_changes(
            session_id INTEGER NOT NULL,
            offset_us INTEGER NOT NULL,
            weight INTEGER NOT NULL,
            pause_share REAL NOT NULL,
            cpu_share REAL NOT NULL,
            PRIMARY KEY(session_id, offset_us)) WITHOUT ROWID;
        """,
        // 8: threads blocked entering a lock, and who held it (LockWaitSample): each lock a session saw, and one row per
        // waiting thread sample. Sparse (only waiters have rows), so kept beside the packed samples rather than in them.
        """
        CREATE TABLE session_locks(
            session_id INTEGER NOT NULL,
            id INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            type_name TEXT NOT NULL,
            address INTEGER NOT NULL,
            PRIMARY KEY(session_id, id)) WITHOUT ROWID;
        CREATE TABLE lock_waits(
            session_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            thread_id INTEGER NOT NULL,
            lock_id INTEGER NOT NULL,
            owner_thread_id INTEGER,
            PRIMARY KEY(session_id, seq, thread_id)) WITHOUT ROWID;
        """,
    ];

    public static int CurrentVersion => Migrations.Length;

    /// <summary>How long SQLite itself waits for another writer's lock, per statement.</summary>
    public const int BusyTimeoutMs = 10_000;

    public static void Apply(SqliteConnection connection)
    {
        Execute(connection, $"PRAGMA busy_timeout = {BusyTimeoutMs};");
        var version = CheckVersion(connection);

        // WAL: readers never block the writer, and several captures can share the file.
        Execute(connection, "PRAGMA journal_mode = WAL;");
        Execute(connection, "PRAGMA synchronous = NORMAL;");
        Execute(connection, "PRAGMA foreign_keys = OFF;");
        while (version < CurrentVersion)
        {
            using var transaction = connection.BeginTransaction();
            if (ReadVersion(connection) == version) // another process may have migrated meanwhile
            {
                Execute(connection, Migrations[version], transaction);
                Execute(connection, $"PRAGMA user_version = {version + 1};", transaction);
            }
            transaction.Commit();
            version = ReadVersion(connection);
        }
    }

    /// <summary>For a store opened read-only, which cannot be migrated: it must be of this Snapper's version.</summary>
    public static void EnsureReadable(SqliteConnection connection)
    {
        var version = CheckVersion(connection);
        if (version == 0)
            throw new StoreException("the file is empty, not a Snapper store");
        if (version < CurrentVersion)
            throw new StoreException($"the store has schema version {version}, which this Snapper upgrades to {CurrentVersion} on opening, "
                + "but the file is read-only: copy it somewhere writable and read the copy");
    }

    /// <summary>The schema version, once it is sure the file is a store this Snapper can handle (version 0: empty).</summary>
    static int CheckVersion(SqliteConnection connection)
    {
        var version = ReadVersion(connection);
        if (version > CurrentVersion)
            throw new StoreException($"database schema version {version} is newer than this Snapper understands ({CurrentVersion}); upgrade Snapper");
        if (version > 0 && !HasTable(connection, "sessions"))
            throw new StoreException("the file is a SQLite database but not a Snapper store");
        if (version == 0 && HasAnyTable(connection) && !HasTable(connection, "sessions"))
            throw new StoreException("the file is a SQLite database but not a Snapper store");
        return version;
    }

    static int ReadVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    static bool HasTable(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $name;";
        command.Parameters.AddWithValue("$name", name);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    static bool HasAnyTable(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master;";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
