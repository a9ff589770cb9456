using System.Runtime.InteropServices;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// The samples reduced to what the analysis needs: each distinct (thread, stack) pair with its sample count (a
/// CPU-only sample counts 0: see <see cref="Sample.Wall"/>) and CPU time, and each
/// distinct stack once as method indexes, outermost first. A million samples usually come down to a few thousand
/// pairs, so everything after this step costs per pair, not per sample.
/// </summary>
sealed class DistinctStacks
{
    readonly int[] _pairThread, _pairPath;
    readonly long[] _pairCount, _pairCpu;
    readonly int[] _pathStart, _pathLength, _pool;

    DistinctStacks(int[] pairThread, int[] pairPath, long[] pairCount, long[] pairCpu, int[] pathStart, int[] pathLength, int[] pool)
    {
        (_pairThread, _pairPath, _pairCount, _pairCpu) = (pairThread, pairPath, pairCount, pairCpu);
        (_pathStart, _pathLength, _pool) = (pathStart, pathLength, pool);
    }

    /// <summary>Pairs are ordered by thread id, then stack id: one thread's pairs are contiguous, and runs are repeatable.</summary>
    public int PairCount => _pairThread.Length;
    public int ThreadOf(int pair) => _pairThread[pair];
    public int PathOf(int pair) => _pairPath[pair];
    public long CountOf(int pair) => _pairCount[pair];

    /// <summary>CPU nanoseconds the pair's samples carry.</summary>
    public long CpuOf(int pair) => _pairCpu[pair];

    /// <summary>The method at <paramref name="depth"/> (0 = outermost) of a pair's stack, or -1 past its end.</summary>
    public int MethodAt(int pair, int depth)
    {
        var path = _pairPath[pair];
        return depth < _pathLength[path] ? _pool[_pathStart[path] + depth] : -1;
    }

    public ReadOnlySpan<int> Path(int path) => _pool.AsSpan(_pathStart[path], _pathLength[path]);

    /// <summary>Samples per thread id, for every thread that has any.</summary>
    public IReadOnlyDictionary<int, long> PerThread { get; private init; } = new Dictionary<int, long>();

    public static DistinctStacks Count(IEnumerable<Sample> samples, MethodTable methods)
    {
        // Samples counted per (thread, stack) under one long key, thread in the high half; then the few distinct keys
        // are sorted, which leaves the pairs in (thread, stack) order, so runs are repeatable and threads contiguous.
        var counts = new Dictionary<long, (int Count, long Cpu)>();
        foreach (var sample in samples)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, (long)sample.ThreadId << 32 | (uint)sample.StackId, out _);
            entry.Count += sample.Wall;
            entry.Cpu += sample.CpuNs;
        }
        var keys = counts.Keys.ToArray();
        Array.Sort(keys);

        var pathOfStack = new Dictionary<int, int>();
        var starts = new List<int>();
        var lengths = new List<int>();
        var pool = new List<int>();
        var scratch = new List<int>();
        var pairThread = new List<int>();
        var pairPath = new List<int>();
        var pairCount = new List<long>();
        var pairCpu = new List<long>();
        var perThread = new Dictionary<int, long>();
        foreach (var key in keys)
        {
            var (thread, stack, (count, cpu)) = ((int)(key >> 32), (int)key, counts[key]);
            if (!pathOfStack.TryGetValue(stack, out var path))
            {
                // Leaf to root, then reversed: the store links each node to its parent.
                scratch.Clear();
                for (var id = stack; id != 0;) scratch.Add(methods.MethodOfStack(id, out id));
                scratch.Reverse();
                path = starts.Count;
                pathOfStack[stack] = path;
                starts.Add(pool.Count);
                lengths.Add(scratch.Count);
                pool.AddRange(scratch);
            }
            pairThread.Add(thread);
            pairPath.Add(path);
            pairCount.Add(count);
            pairCpu.Add(cpu);
            CollectionsMarshal.GetValueRefOrAddDefault(perThread, thread, out _) += count;
        }
        return new DistinctStacks(pairThread.ToArray(), pairPath.ToArray(), pairCount.ToArray(), pairCpu.ToArray(), starts.ToArray(), lengths.ToArray(),
            pool.ToArray()) { PerThread = perThread };
    }
}
