namespace Snapper.Benchmark;

/// <summary>CPU time per thread of this process, by thread name (comm), from /proc/self/task.</summary>
static partial class ThreadCpu
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static unsafe partial int ClockGetTime(int clock, long* time);

    /// <summary>CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): a vDSO call, cheap enough per sample.</summary>
    public static unsafe double CurrentThreadSeconds()
    {
        var t = stackalloc long[2]; // struct timespec { tv_sec; tv_nsec; }
        return ClockGetTime(3, t) == 0 ? t[0] + t[1] / 1e9 : 0;
    }

    static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public static Dictionary<string, double> Snapshot()
    {
        var result = new Dictionary<string, double>();
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var close = stat.LastIndexOf(')');
                var name = stat[(stat.IndexOf('(') + 1)..close];
                var fields = stat[(close + 2)..].Split(' ');
                var seconds = (long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond;
                result[name] = result.GetValueOrDefault(name) + seconds;
            }
            catch (IOException)
            {
            }
        }
        return result;
    }

    public static string Delta(Dictionary<string, double> before, Dictionary<string, double> after, int samples) =>
        string.Join(", ", after
            .Select(kv => (kv.Key, Seconds: kv.Value - before.GetValueOrDefault(kv.Key)))
            .Where(x => x.Seconds > 0)
            .OrderByDescending(x => x.Seconds)
            .Select(x => FormattableString.Invariant($"{x.Key} {x.Seconds * 1000 / Math.Max(1, samples):F2}")));
}
