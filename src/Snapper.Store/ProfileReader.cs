using Microsoft.Data.Sqlite;

namespace Snapper.Store;

/// <summary>Loads one session into a <see cref="Profile"/>.</summary>
public static class ProfileReader
{
    public static Profile Load(SnapperDatabase db, SessionInfo session)
    {
        try
        {
            var snapshots = ReadSnapshots(db, session.Id);
            var samples = Weighted(ReadSamples(db, session.Id), snapshots);
            var (stacks, frames) = ReadStacksAndFrames(db, samples);
            return new Profile
            {
                Session = session,
                Threads = ReadThreads(db, session.Id),
                Snapshots = snapshots,
                Samples = BetweenSamples.Split(samples, stacks, frames, _ => session.Target.KnowsRunState),
                Stacks = stacks,
                Frames = frames,
                Locks = ReadLocks(db, session.Id),
                LockWaits = ReadLockWaits(db, session.Id),
            };
        }
        catch (SqliteException e)
        {
            throw new StoreException($"cannot read database: {SnapperDatabase.Describe(e)}", e);
        }
    }

    /// <summary>
    /// Several sessions as one profile (see <see cref="SessionAggregate"/>): snapshots renumbered in time order with
    /// offsets from the first session's start, threads merged by name. <paramref name="sessions"/> must not be empty.
    /// </summary>
    public static Profile LoadMany(SnapperDatabase db, IReadOnlyList<SessionInfo> sessions)
    {
        if (sessions.Count == 1) return Load(db, sessions[0]);
        var ordered = sessions.OrderBy(s => s.StartedUtc).ThenBy(s => s.Id).ToList();
        try
        {
            var start = ordered[0].StartedUtc;
            var snapshots = new List<Snapshot>();
            var samples = new List<Sample>();
            var threads = new List<ThreadInfo>();
            var knowsRunState = new HashSet<int>(); // the snapshots of sessions that read the kernel's run state
            var locks = new List<LockInfo>();
            var lockWaits = new List<LockWaitSample>();
            foreach (var session in ordered)
            {
                // Each session's sequence numbers become positions on the shared time line.
                var shiftUs = (session.StartedUtc - start).Ticks / 10;
                var sequence = new Dictionary<int, int>();
                var own = ReadSnapshots(db, session.Id);
                foreach (var snapshot in own)
                {
                    sequence[snapshot.Sequence] = snapshots.Count;
                    if (session.Target.KnowsRunState) knowsRunState.Add(snapshots.Count);
                    snapshots.Add(snapshot with { Sequence = snapshots.Count, OffsetUs = snapshot.OffsetUs + shiftUs });
                }
                foreach (var sample in Weighted(ReadSamples(db, session.Id), own))
                    if (sequence.TryGetValue(sample.Sequence, out var at)) samples.Add(sample with { Sequence = at });
                threads.AddRange(ReadThreads(db, session.Id));
                // Lock ids are per session: renumbered into one list.
                var lockIds = new Dictionary<int, int>();
                foreach (var lockInfo in ReadLocks(db, session.Id))
                {
                    lockIds[lockInfo.Id] = locks.Count + 1;
                    locks.Add(lockInfo with { Id = locks.Count + 1 });
                }
                foreach (var wait in ReadLockWaits(db, session.Id))
                    if (sequence.TryGetValue(wait.Sequence, out var at) && lockIds.TryGetValue(wait.LockId, out var lockId))
                        lockWaits.Add(wait with { Sequence = at, LockId = lockId });
            }
            var mapping = new Dictionary<int, int>();
            var merged = SessionAggregate.MergeThreads(threads, mapping);
            for (var i = 0; i < samples.Count; i++)
                if (mapping.TryGetValue(samples[i].ThreadId, out var into)) samples[i] = samples[i] with { ThreadId = into };
            for (var i = 0; i < lockWaits.Count; i++)
                lockWaits[i] = lockWaits[i] with { ThreadId = Merged(lockWaits[i].ThreadId), OwnerThreadId = lockWaits[i].OwnerThreadId is { } owner ? Merged(owner) : null };
            var (stacks, frames) = ReadStacksAndFrames(db, samples);
            return new Profile
            {
                Session = SessionAggregate.Summary(ordered, snapshots, samples.Count),
                Sessions = ordered,
                Threads = merged,
                Snapshots = snapshots,
                Samples = BetweenSamples.Split(samples, stacks, frames, knowsRunState.Contains),
                Stacks = stacks,
                Frames = frames,
                Locks = locks,
                LockWaits = lockWaits,
            };

            int Merged(int thread) => mapping.TryGetValue(thread, out var into) ? into : thread;
        }
        catch (SqliteException e)
        {
            throw new StoreException($"cannot read database: {SnapperDatabase.Describe(e)}", e);
        }
    }

    static List<LockInfo> ReadLocks(SnapperDatabase db, long session)
    {
        using var command = Query(db, "SELECT id, kind, type_name, address FROM session_locks WHERE session_id = $s ORDER BY id;", session);
        using var r = command.ExecuteReader();
        var locks = new List<LockInfo>();
        while (r.Read())
            locks.Add(new LockInfo(r.GetInt32(0), (LockKind)r.GetInt32(1), r.GetString(2), unchecked((ulong)r.GetInt64(3))));
        return locks;
    }

    static List<LockWaitSample> ReadLockWaits(SnapperDatabase db, long session)
    {
        using var command = Query(db, "SELECT seq, thread_id, lock_id, owner_thread_id FROM lock_waits WHERE session_id = $s ORDER BY seq, thread_id;", session);
        using var r = command.ExecuteReader();
        var waits = new List<LockWaitSample>();
        while (r.Read())
            waits.Add(new LockWaitSample(r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.IsDBNull(3) ? null : r.GetInt32(3)));
        return waits;
    }

    static List<ThreadInfo> ReadThreads(SnapperDatabase db, long session)
    {
        using var command = Query(db, "SELECT id, os_tid, managed_id, name, os_name, role FROM threads WHERE session_id = $s ORDER BY id;", session);
        using var r = command.ExecuteReader();
        var threads = new List<ThreadInfo>();
        while (r.Read())
            threads.Add(new ThreadInfo(r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), TextOrNull(r, 3), TextOrNull(r, 4), TextOrNull(r, 5)));
        return threads;
    }

    static List<Snapshot> ReadSnapshots(SnapperDatabase db, long session)
    {
        using var command = Query(db, "SELECT seq, offset_us, pause_us, late, weight FROM snapshots WHERE session_id = $s ORDER BY seq;", session);
        using var r = command.ExecuteReader();
        var snapshots = new List<Snapshot>();
        while (r.Read())
            snapshots.Add(new Snapshot(r.GetInt32(0), r.GetInt64(1), r.GetInt64(2), r.GetInt32(3) != 0, r.GetInt32(4)));
        return snapshots;
    }

    /// <summary>Gives each sample its snapshot's weight (samples come in snapshot order); untouched when every weight is 1.</summary>
    static List<Sample> Weighted(List<Sample> samples, List<Snapshot> snapshots)
    {
        if (snapshots.TrueForAll(s => s.Weight == 1)) return samples;
        var weights = snapshots.ToDictionary(s => s.Sequence, s => s.Weight);
        for (var i = 0; i < samples.Count; i++)
            if (weights.TryGetValue(samples[i].Sequence, out var weight) && weight != 1) samples[i] = samples[i] with { Weight = weight };
        return samples;
    }

    /// <summary>A session's samples in snapshot order: unpacked from its snapshots, or rows of a session written before schema 3.</summary>
    static List<Sample> ReadSamples(SnapperDatabase db, long session)
    {
        var samples = new List<Sample>();
        using (var packed = Query(db, "SELECT seq, samples FROM snapshots WHERE session_id = $s AND samples IS NOT NULL ORDER BY seq;", session))
        using (var r = packed.ExecuteReader())
        {
            while (r.Read())
                SnapshotSamples.Unpack(r.GetInt32(0), (byte[])r.GetValue(1), samples);
        }
        using var command = Query(db, "SELECT seq, thread_id, stack_id, state, activity, syscall, cpu_ns FROM samples WHERE session_id = $s ORDER BY seq, thread_id;", session);
        using var rows = command.ExecuteReader();
        while (rows.Read())
            samples.Add(new Sample(rows.GetInt32(0), rows.GetInt32(1), rows.GetInt32(2), (SampleState)rows.GetInt32(3),
                (SampleActivity)rows.GetInt32(4), rows.GetInt32(5), rows.GetInt64(6)));
        return samples;
    }

    /// <summary>
    /// Only the prefix-tree nodes this session's samples reach, not every stack in a shared file, with their frames.
    /// The walk up from the leaves runs once, into a temporary table, seeded with the leaves the samples name (a
    /// million-sample session has a few thousand): scanning the samples again in SQL cost as much as reading them.
    /// </summary>
    static (Dictionary<int, StackNode>, Dictionary<int, FrameInfo>) ReadStacksAndFrames(SnapperDatabase db, List<Sample> samples)
    {
        var leaves = samples.Select(s => s.StackId).Where(id => id != 0).Distinct().ToList();
        Execute(db, "DROP TABLE IF EXISTS temp.session_stacks;");
        try
        {
            using (var seed = db.Command("""
                CREATE TEMP TABLE session_stacks AS
                WITH RECURSIVE used(id) AS (
                    SELECT value FROM json_each($leaves)
                    UNION
                    SELECT stacks.parent FROM stacks JOIN used ON stacks.id = used.id WHERE stacks.parent <> 0)
                SELECT id FROM used;
                """))
            {
                seed.Parameters.AddWithValue("$leaves", "[" + string.Join(',', leaves) + "]");
                seed.ExecuteNonQuery();
            }
            var stacks = new Dictionary<int, StackNode>();
            using (var command = db.Command("SELECT stacks.id, stacks.parent, stacks.frame FROM stacks JOIN temp.session_stacks USING(id);"))
            using (var r = command.ExecuteReader())
            {
                while (r.Read())
                    stacks[r.GetInt32(0)] = new StackNode(r.GetInt32(0), r.GetInt32(1), r.GetInt32(2));
            }
            var frames = new Dictionary<int, FrameInfo>();
            using (var command = db.Command("""
                SELECT id, kind, module, type_name, method_name, file, line FROM frames
                WHERE id IN (SELECT stacks.frame FROM stacks JOIN temp.session_stacks USING(id));
                """))
            using (var r = command.ExecuteReader())
            {
                while (r.Read())
                {
                    var file = r.GetString(5);
                    frames[r.GetInt32(0)] = new FrameInfo((FrameKind)r.GetInt32(1), r.GetString(2), r.GetString(3), r.GetString(4),
                        file.Length == 0 ? null : file, r.GetInt32(6));
                }
            }
            return (stacks, frames);
        }
        finally
        {
            Execute(db, "DROP TABLE IF EXISTS temp.session_stacks;");
        }
    }

    static void Execute(SnapperDatabase db, string sql)
    {
        using var command = db.Command(sql);
        command.ExecuteNonQuery();
    }

    static string? TextOrNull(SqliteDataReader r, int column) => r.IsDBNull(column) ? null : r.GetString(column);

    static SqliteCommand Query(SnapperDatabase db, string sql, long session)
    {
        var command = db.Command(sql);
        command.Parameters.AddWithValue("$s", session);
        return command;
    }
}
