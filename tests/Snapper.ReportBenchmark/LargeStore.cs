using Snapper.Store;

namespace Snapper.ReportBenchmark;

/// <summary>
/// Writes a synthetic session the size the report must handle: samples spread over threads, with a given number of
/// distinct stacks grown like real ones (each new stack extends a prefix of an earlier one: shared outer frames,
/// diverse leaves, 5 to 80 deep over 2,000 methods), hot stacks sampled far more than cold ones, a quarter of the
/// threads blocked in one stack for long runs, states and CPU time as a capture records them. Deterministic.
/// </summary>
static class LargeStore
{
    /// <param name="blocked">Every thread sits in one stack the whole time (the store's best case: stacks repeat).</param>
    public static long Write(SnapperDatabase db, int samples, int threads, int stacks, bool blocked = false, int seed = 20261121)
    {
        var random = new Random(seed);
        var layout = new Random(20261121); // the same stacks in every session, as captures of one program have
        var methods = Enumerable.Range(0, 2_000)
            .Select(i => new FrameInfo(FrameKind.Managed, i % 3 == 0 ? "System.Private.CoreLib.dll" : "Orders.dll", $"Namespace{i % 13}.Type{i % 97}", $"Method{i}"))
            .ToArray();
        var paths = new List<FrameInfo[]> { methods.Take(5).ToArray() };
        var seen = new HashSet<string> { Key(paths[0]) };
        while (paths.Count < stacks)
        {
            var basis = paths[layout.Next(paths.Count)];
            var keep = layout.Next(Math.Min(5, basis.Length), basis.Length + 1);
            var path = basis.Take(keep).Concat(Enumerable.Range(0, layout.Next(1, 5)).Select(_ => methods[layout.Next(methods.Length)])).Take(80).ToArray();
            if (seen.Add(Key(path))) paths.Add(path);
        }

        var target = new SessionTarget(4242, "Orders", "dotnet Orders.dll --port 8080", "10.0.12", "bench", "ptrace", 100, 256,
            "snapper sample --pid 4242", SyscallNames.CurrentArchitecture);
        var start = DateTime.UtcNow;
        using var writer = SessionWriter.Begin(db, target, start);
        var snapshots = (samples + threads - 1) / threads;
        var stackIds = paths.Select(writer.InternStack).ToArray();
        var blockedStack = new int[threads];
        for (var t = 0; t < threads; t++) blockedStack[t] = random.Next(stacks);
        var written = 0;
        for (var seq = 0; seq < snapshots && written < samples; seq++)
        {
            writer.AddSnapshot(new Snapshot(seq, seq * 10_000L, 800 + random.Next(400), false));
            for (var t = 0; t < threads && written < samples; t++, written++)
            {
                var thread = writer.InternThread(10_000 + t, new ThreadIdentity(t + 1, $"worker {t}", $"worker {t}", null));
                // Every stack at least once; then hot stacks far more often than cold ones; a quarter of the threads
                // sit in one blocked stack, as waiting threads do.
                var waiting = blocked || (t % 4 == 0 && seq % 50 != 0);
                var stack = blocked ? t % stacks : written < stacks ? written : waiting ? blockedStack[t] : (int)(Math.Pow(random.NextDouble(), 3) * stacks);
                var state = waiting ? SampleState.LockWait : SampleState.Cpu;
                writer.AddSample(new Sample(seq, thread, stackIds[stack], state,
                    waiting ? SampleActivity.Syscall : SampleActivity.ManagedCode, waiting ? 202 : -1, waiting ? 0 : 9_000_000 + random.Next(2_000_000)));
            }
            if (seq % 1000 == 0) writer.Commit();
        }
        writer.End(SessionEndReason.CountReached, null, start.AddSeconds(snapshots / 100.0), 0);
        return writer.SessionId;
    }

    static string Key(FrameInfo[] path) => string.Join('|', path.Select(f => f.MethodName));
}
