using Microsoft.Data.Sqlite;

namespace Snapper.Store;

/// <summary>
/// An open Snapper store: one SQLite file that many sessions share. Opening creates or migrates the schema.
/// WAL and a busy timeout let several captures write into one file at once.
/// </summary>
public sealed class SnapperDatabase : IDisposable
{
    public string Path { get; }
    internal SqliteConnection Connection { get; }

    /// <summary>Opened read-only (see <see cref="OpenForReading"/>): nothing can be written, not even a repair.</summary>
    public bool IsReadOnly { get; }

    SnapperDatabase(string path, SqliteConnection connection, bool isReadOnly = false)
    {
        Path = path;
        Connection = connection;
        IsReadOnly = isReadOnly;
    }

    /// <summary>
    /// Opens an existing store for the commands that only read it. A store the user may not write (an archive copied
    /// from a production host, a root-owned file read by an operator) opens read-only rather than failing.
    /// </summary>
    public static SnapperDatabase OpenForReading(string path)
    {
        try
        {
            return Open(path, create: false);
        }
        catch (StoreException e) when (e.InnerException is SqliteException { SqliteErrorCode: SqliteErrorCodes.ReadOnly or SqliteErrorCodes.CantOpen })
        {
            return OpenReadOnly(path);
        }
    }

    static SnapperDatabase OpenReadOnly(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        // A WAL store needs its -shm file to be read; in a read-only directory nobody can create it. Such a store was
        // closed cleanly (its -wal file is gone too), so reading it as immutable reads all of it.
        var immutable = !File.Exists(full + "-wal");
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = immutable ? new Uri(full).AbsoluteUri + "?immutable=1" : full,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        };
        var connection = Connect(builder, path, " (read-only)", Schema.EnsureReadable);
        return new SnapperDatabase(full, connection, isReadOnly: true);
    }

    /// <summary>Opens a connection and checks (or prepares) the schema on it; any failure closes it and says why.</summary>
    static SqliteConnection Connect(SqliteConnectionStringBuilder builder, string path, string how, Action<SqliteConnection> schema)
    {
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            schema(connection);
            return connection;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new StoreException($"cannot open database '{path}'{how}: {Describe(e)}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens (and with <paramref name="create"/>, creates) the store at <paramref name="path"/>.</summary>
    /// <exception cref="StoreException">The file cannot be opened, is not a Snapper store, or has a newer schema.</exception>
    public static SnapperDatabase Open(string path, bool create = true)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new StoreException($"database path '{path}' is a directory");
        if (!create && !File.Exists(full))
            throw new StoreException($"database '{path}' does not exist (run 'snapper sample' first, or pass --db)");
        var dir = System.IO.Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir))
            throw new StoreException($"cannot create database '{path}': directory '{dir}' does not exist");

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = create ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 30,
        };
        var connection = Connect(builder, path, "", Schema.Apply);
        return new SnapperDatabase(full, connection);
    }

    /// <summary>
    /// Returns once this process could write (it takes the write lock and lets it go). When another writer holds the
    /// store, <paramref name="waiting"/> is called once and the wait goes on for up to 30 s; then it fails.
    /// </summary>
    /// <exception cref="StoreException">The store stayed locked, or cannot be written.</exception>
    public void WaitUntilWritable(Action waiting)
    {
        if (TryTakeWriteLock(TimeSpan.FromSeconds(1))) return;
        waiting();
        if (!TryTakeWriteLock(TimeSpan.FromSeconds(30)))
            throw new StoreException($"cannot write database '{Path}': {Describe(SqliteErrorCodes.Busy)} (waited 30 s)");
    }

    bool TryTakeWriteLock(TimeSpan timeout)
    {
        // SQLite's own wait (busy_timeout) would outlast a short probe: wait here by the command's timeout alone.
        using (var noWait = Command("PRAGMA busy_timeout = 0;")) noWait.ExecuteNonQuery();
        using var begin = Command("BEGIN IMMEDIATE;");
        begin.CommandTimeout = (int)timeout.TotalSeconds;
        try
        {
            begin.ExecuteNonQuery();
        }
        catch (SqliteException e) when (e.SqliteErrorCode is SqliteErrorCodes.Busy or SqliteErrorCodes.Locked)
        {
            return false;
        }
        catch (SqliteException e)
        {
            throw new StoreException($"cannot write database '{Path}': {Describe(e)}", e);
        }
        finally
        {
            using var restore = Command($"PRAGMA busy_timeout = {Schema.BusyTimeoutMs};");
            restore.ExecuteNonQuery();
        }
        using var rollback = Command("ROLLBACK;");
        rollback.ExecuteNonQuery();
        return true;
    }

    internal static string Describe(SqliteException e) => Describe(e.SqliteErrorCode, e.Message);

    static string Describe(int code, string message = "") => code switch
    {
        SqliteErrorCodes.ReadOnly => "the file or its directory is read-only",
        SqliteErrorCodes.CantOpen => "the file cannot be opened or created (check the path and permissions)",
        SqliteErrorCodes.NotADatabase => "the file is not a SQLite database",
        SqliteErrorCodes.Corrupt => "the database file is corrupt",
        SqliteErrorCodes.Full => "the disk is full",
        SqliteErrorCodes.Busy or SqliteErrorCodes.Locked => "the database is locked by another writer",
        _ => message.TrimEnd('.'),
    };

    internal SqliteCommand Command(string sql)
    {
        var command = Connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    public void Dispose() => Connection.Dispose();
}

/// <summary>SQLite result codes Snapper turns into plain words.</summary>
static class SqliteErrorCodes
{
    public const int Busy = 5, Locked = 6, ReadOnly = 8, Corrupt = 11, CantOpen = 14, Full = 13, NotADatabase = 26;
}
