using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Snapper.Store;

/// <summary>
/// Writes one session. Not thread-safe: one consumer thread owns it. Writes go into an open transaction that
/// <see cref="Commit"/> ends, so a batch is all or nothing and a crash loses at most the batch in flight.
/// Frames and stacks are interned against the whole file; a snapshot's samples are packed into its row
/// (<see cref="SnapshotSamples"/>), so a sample costs a few bytes. The stacks a session uses are listed once in
/// session_stacks, for pruning. The writer holds its session's lease (<see cref="SessionLease"/>) from before the row is
/// committed until it is disposed: that is how other processes know the session is being written.
/// </summary>
public sealed class SessionWriter : IDisposable
{
    readonly SnapperDatabase _db;
    readonly SessionLease _lease;
    readonly Dictionary<FrameInfo, int> _frameIds = new();
    // The sampler hands back the very same stack list for a thread that has not moved, sample after sample, and the same
    // frame records for the same code: known by reference, they are not hashed again (hashing every frame's strings of
    // every thread of every sample was most of the store's CPU). Bounded: emptied when full, and refilled as they come.
    const int KnownByReferenceLimit = 4096;
    readonly Dictionary<IReadOnlyList<FrameInfo>, int> _stackIdsByList = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<FrameInfo, int> _frameIdsByRecord = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<(int Parent, int Frame), int> _stackIds = new();
    readonly Dictionary<(int OsTid, int ManagedId), (int Id, ThreadIdentity Identity)> _threads = new();
    readonly SqliteCommand _insertFrame, _insertStack, _insertThread, _renameThread, _insertSnapshot, _insertSessionStack, _insertLock, _insertLockWait;
    readonly Dictionary<(LockKind Kind, ulong Address, string Type), int> _locks = new();
    readonly HashSet<int> _sessionStacks = new();
    readonly List<Sample> _pendingSamples = new();
    Snapshot? _pendingSnapshot;
    SqliteTransaction? _transaction;

    public long SessionId { get; }

    SessionWriter(SnapperDatabase db, long sessionId, SessionLease lease)
    {
        _db = db;
        _lease = lease;
        SessionId = sessionId;
        // "DO UPDATE SET x = x" rather than DO NOTHING so RETURNING yields the existing row's id too.
        _insertFrame = Prepare("""
            INSERT INTO frames(kind, module, type_name, method_name, file, line) VALUES($kind, $module, $type, $method, $file, $line)
            ON CONFLICT(kind, module, type_name, method_name, file, line) DO UPDATE SET kind = excluded.kind RETURNING id;
            """, "$kind", "$module", "$type", "$method", "$file", "$line");
        _insertStack = Prepare("""
            INSERT INTO stacks(parent, frame) VALUES($parent, $frame)
            ON CONFLICT(parent, frame) DO UPDATE SET frame = excluded.frame RETURNING id;
            """, "$parent", "$frame");
        _insertThread = Prepare(
            "INSERT INTO threads(session_id, os_tid, managed_id, name, os_name, role) VALUES($session, $tid, $mid, $name, $os, $role) RETURNING id;",
            "$session", "$tid", "$mid", "$name", "$os", "$role");
        _renameThread = Prepare("UPDATE threads SET name = $name, os_name = $os, role = $role WHERE id = $id;",
            "$name", "$os", "$role", "$id");
        _insertSnapshot = Prepare("""
            INSERT INTO snapshots(session_id, seq, offset_us, pause_us, late, sample_count, samples, weight)
            VALUES($session, $seq, $offset, $pause, $late, $count, $samples, $weight);
            """, "$session", "$seq", "$offset", "$pause", "$late", "$count", "$samples", "$weight");
        _insertSessionStack = Prepare("INSERT OR IGNORE INTO session_stacks(session_id, stack_id) VALUES($session, $stack);", "$session", "$stack");
        _insertLock = Prepare("INSERT INTO session_locks(session_id, id, kind, type_name, address) VALUES($session, $id, $kind, $type, $address);",
            "$session", "$id", "$kind", "$type", "$address");
        _insertLockWait = Prepare("""
            INSERT OR REPLACE INTO lock_waits(session_id, seq, thread_id, lock_id, owner_thread_id) VALUES($session, $seq, $thread, $lock, $owner);
            """, "$session", "$seq", "$thread", "$lock", "$owner");
    }

    /// <summary>Records a new session as running and returns its writer.</summary>
    /// <exception cref="StoreException">The store or its lock file cannot be written.</exception>
    public static SessionWriter Begin(SnapperDatabase db, SessionTarget target, DateTime startedUtc)
    {
        var lease = SessionLease.Enter(db.Path);
        try
        {
            // The session is claimed in the transaction that creates it: no one sees it running and unclaimed.
            using var transaction = WithStoreErrors(() => db.Connection.BeginTransaction(deferred: false));
            using var command = db.Command("""
                INSERT INTO sessions(pid, process_name, command_line, runtime_version, host, engine, requested_rate, max_frames,
                                     snapper_command_line, started_utc, end_reason, architecture, run_state)
                VALUES($pid, $name, $cmd, $runtime, $host, $engine, $rate, $max, $snapper, $started, $reason, $arch, $runState) RETURNING id;
                """);
            command.Transaction = transaction;
            command.Parameters.AddWithValue("$pid", target.Pid);
            command.Parameters.AddWithValue("$name", target.ProcessName);
            command.Parameters.AddWithValue("$cmd", target.CommandLine);
            command.Parameters.AddWithValue("$runtime", target.RuntimeVersion);
            command.Parameters.AddWithValue("$host", target.Host);
            command.Parameters.AddWithValue("$engine", target.Engine);
            command.Parameters.AddWithValue("$rate", target.RequestedRate);
            command.Parameters.AddWithValue("$max", target.MaxFrames);
            command.Parameters.AddWithValue("$snapper", target.SnapperCommandLine);
            command.Parameters.AddWithValue("$started", Timestamps.Format(startedUtc));
            command.Parameters.AddWithValue("$reason", SessionEndReason.Running.ToString());
            command.Parameters.AddWithValue("$arch", target.Architecture);
            command.Parameters.AddWithValue("$runState", target.KnowsRunState ? 1 : 0);
            var id = WithStoreErrors(() => Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture));
            lease.Claim(id);
            WithStoreErrors(() => { transaction.Commit(); return 0; });
            return new SessionWriter(db, id, lease);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The row id of a thread of this session, created on first sight. A thread's names can change while it is
    /// watched (Thread.Name set after start, or learnt late): the row then takes the newest ones.
    /// </summary>
    public int InternThread(int osThreadId, ThreadIdentity identity)
    {
        var key = (osThreadId, identity.ManagedThreadId);
        if (_threads.TryGetValue(key, out var known))
        {
            if (ReferenceEquals(known.Identity, identity) || known.Identity == identity) return known.Id;
            EnsureTransaction();
            Bind(_renameThread, Nullable(identity.Name), Nullable(identity.OsName), Nullable(identity.Role), known.Id);
            _renameThread.ExecuteNonQuery();
            _threads[key] = (known.Id, identity);
            return known.Id;
        }
        EnsureTransaction();
        Bind(_insertThread, SessionId, osThreadId, identity.ManagedThreadId, Nullable(identity.Name), Nullable(identity.OsName), Nullable(identity.Role));
        var id = Convert.ToInt32(_insertThread.ExecuteScalar(), CultureInfo.InvariantCulture);
        _threads[key] = (id, identity);
        return id;
    }

    static object Nullable(string? text) => (object?)text ?? DBNull.Value;

    /// <summary>Interns a stack given outermost frame first; returns its leaf node id (0 for an empty stack).</summary>
    public int InternStack(IReadOnlyList<FrameInfo> framesOutermostFirst)
    {
        if (_stackIdsByList.TryGetValue(framesOutermostFirst, out var known)) return known;
        var leaf = InternStackFrames(framesOutermostFirst);
        if (_stackIdsByList.Count >= KnownByReferenceLimit) _stackIdsByList.Clear();
        _stackIdsByList[framesOutermostFirst] = leaf;
        return leaf;
    }

    int InternStackFrames(IReadOnlyList<FrameInfo> framesOutermostFirst)
    {
        var parent = 0;
        foreach (var frame in framesOutermostFirst)
        {
            var frameId = InternFrame(frame);
            if (!_stackIds.TryGetValue((parent, frameId), out var node))
            {
                EnsureTransaction();
                Bind(_insertStack, parent, frameId);
                node = Convert.ToInt32(_insertStack.ExecuteScalar(), CultureInfo.InvariantCulture);
                _stackIds[(parent, frameId)] = node;
            }
            parent = node;
        }
        return parent;
    }

    int InternFrame(FrameInfo frame)
    {
        if (_frameIdsByRecord.TryGetValue(frame, out var id)) return id;
        if (!_frameIds.TryGetValue(frame, out id))
        {
            EnsureTransaction();
            Bind(_insertFrame, (int)frame.Kind, frame.Module, frame.TypeName, frame.MethodName, frame.File ?? "", frame.Line);
            id = Convert.ToInt32(_insertFrame.ExecuteScalar(), CultureInfo.InvariantCulture);
            _frameIds[frame] = id;
        }
        if (_frameIdsByRecord.Count >= KnownByReferenceLimit) _frameIdsByRecord.Clear();
        _frameIdsByRecord[frame] = id;
        return id;
    }

    /// <summary>The id of a lock in this session, recorded on first sight (see <see cref="LockInfo"/>).</summary>
    public int InternLock(LockKind kind, string typeName, ulong address)
    {
        if (_locks.TryGetValue((kind, address, typeName), out var id)) return id;
        id = _locks.Count + 1;
        EnsureTransaction();
        Bind(_insertLock, SessionId, id, (int)kind, typeName, unchecked((long)address));
        _insertLock.ExecuteNonQuery();
        _locks[(kind, address, typeName)] = id;
        return id;
    }

    /// <summary>Records that a sample of the current snapshot was blocked entering a lock (see <see cref="LockWaitSample"/>).</summary>
    public void AddLockWait(LockWaitSample wait)
    {
        if (_pendingSnapshot is not { } snapshot || snapshot.Sequence != wait.Sequence)
            throw new InvalidOperationException($"lock wait of snapshot {wait.Sequence} added outside it");
        EnsureTransaction();
        Bind(_insertLockWait, SessionId, wait.Sequence, wait.ThreadId, wait.LockId, wait.OwnerThreadId is { } owner ? owner : DBNull.Value);
        _insertLockWait.ExecuteNonQuery();
    }

    /// <summary>Starts a snapshot; its samples follow with <see cref="AddSample"/>. It is written when the next one starts or on commit.</summary>
    public void AddSnapshot(Snapshot snapshot)
    {
        WritePendingSnapshot();
        _pendingSnapshot = snapshot;
    }

    public void AddSample(Sample sample)
    {
        if (_pendingSnapshot is not { } snapshot || snapshot.Sequence != sample.Sequence)
            throw new InvalidOperationException($"sample of snapshot {sample.Sequence} added outside it");
        _pendingSamples.Add(sample);
    }

    void WritePendingSnapshot()
    {
        if (_pendingSnapshot is not { } snapshot) return;
        EnsureTransaction();
        Bind(_insertSnapshot, SessionId, snapshot.Sequence, snapshot.OffsetUs, snapshot.PauseUs, snapshot.Late ? 1 : 0,
            _pendingSamples.Count, SnapshotSamples.Pack(_pendingSamples), snapshot.Weight);
        _insertSnapshot.ExecuteNonQuery();
        foreach (var sample in _pendingSamples)
        {
            if (sample.StackId == 0 || !_sessionStacks.Add(sample.StackId)) continue;
            Bind(_insertSessionStack, SessionId, sample.StackId);
            _insertSessionStack.ExecuteNonQuery();
        }
        _pendingSnapshot = null;
        _pendingSamples.Clear();
    }

    /// <summary>Ends the current batch. Everything added so far is durable once this returns.</summary>
    public void Commit()
    {
        WritePendingSnapshot();
        if (_transaction is null) return;
        try
        {
            WithStoreErrors(() => { _transaction.Commit(); return 0; });
        }
        finally
        {
            _transaction.Dispose();
            _transaction = null;
        }
    }

    /// <summary>
    /// Records that this capture keeps only the samples matching a focus pattern, and how many it has seen and kept so
    /// far. Written with the next batch, so the counts stay in step with the samples stored.
    /// </summary>
    public void RecordFocus(FocusCounts focus)
    {
        EnsureTransaction();
        using var update = _db.Command("UPDATE sessions SET focus = $focus, focus_seen = $seen, focus_kept = $kept WHERE id = $id;");
        update.Transaction = _transaction;
        update.Parameters.AddWithValue("$focus", focus.Pattern);
        update.Parameters.AddWithValue("$seen", focus.Seen);
        update.Parameters.AddWithValue("$kept", focus.Kept);
        update.Parameters.AddWithValue("$id", SessionId);
        WithStoreErrors(update.ExecuteNonQuery);
    }

    /// <summary>The capture's overhead budget (null: none), recorded when it starts.</summary>
    public void RecordBudget(double? budget)
    {
        EnsureTransaction();
        WithStoreErrors(() =>
        {
            SessionOverhead.RecordBudget(_db, SessionId, budget, _transaction);
            return 0;
        });
    }

    /// <summary>The budget changed the rate: written with the next batch, in step with the snapshots it weighs.</summary>
    public void RecordRateChange(RateChange change)
    {
        EnsureTransaction();
        WithStoreErrors(() =>
        {
            SessionOverhead.RecordChange(_db, SessionId, change, _transaction!);
            return 0;
        });
    }

    /// <summary>
    /// Commits, then records how the session ended along with its totals computed from what was stored, and Snapper's
    /// own errors during it.
    /// </summary>
    /// <param name="overhead">The shares of the capture's wall time it cost (see <see cref="OverheadRecord"/>); null when
    /// not measured.</param>
    public void End(SessionEndReason reason, string? message, DateTime endedUtc, int failedSnapshots, IReadOnlyList<InternalError>? internalErrors = null,
        (double Pause, double Cpu)? overhead = null)
    {
        Commit();
        WithStoreErrors(() =>
        {
            using var transaction = _db.Connection.BeginTransaction(deferred: false);
            SessionErrors.Record(_db, SessionId, internalErrors ?? [], transaction);
            if (overhead is { } shares) SessionOverhead.RecordShares(_db, SessionId, shares.Pause, shares.Cpu, transaction);
            SessionTotals.Record(_db, SessionId, reason, message, endedUtc, failedSnapshots, transaction);
            transaction.Commit();
            return 0;
        });
    }

    void EnsureTransaction()
    {
        if (_transaction is not null) return;
        _transaction = WithStoreErrors(() => _db.Connection.BeginTransaction(deferred: false));
        foreach (var command in Commands)
            command.Transaction = _transaction;
    }

    SqliteCommand[] Commands => [_insertFrame, _insertStack, _insertThread, _renameThread, _insertSnapshot, _insertSessionStack, _insertLock, _insertLockWait];

    SqliteCommand Prepare(string sql, params string[] names)
    {
        var command = _db.Command(sql);
        foreach (var name in names) command.Parameters.Add(new SqliteParameter { ParameterName = name });
        return command;
    }

    static void Bind(SqliteCommand command, params object[] values)
    {
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i];
    }

    internal static T WithStoreErrors<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (SqliteException e)
        {
            throw new StoreException($"cannot write database: {SnapperDatabase.Describe(e)}", e);
        }
    }

    public void Dispose()
    {
        // An uncommitted batch is rolled back by Dispose: the caller decides durability with Commit().
        _transaction?.Dispose();
        foreach (var command in Commands)
            command.Dispose();
        _lease.Dispose(); // last: the session is ended (or left running for recovery) before others may take it for dead
    }
}
