using System.Globalization;

namespace Snapper.Benchmark;

/// <summary>
/// Snapper's own memory over a capture, read from outside: RssAnon (/proc/PID/status: its heaps, the GC's, the DAC's
/// and SQLite's, what it cannot share with anything) and PSS (/proc/PID/smaps_rollup: resident memory with shared
/// pages split among the processes mapping them, so the runtime's and libraries' code counts in part).
/// </summary>
sealed class Footprint
{
    public readonly record struct Reading(TimeSpan At, long RssAnonKb, long PssKb);

    public List<Reading> Readings { get; } = [];

    /// <summary>Adds a reading of <paramref name="pid"/>; false when it is gone.</summary>
    public bool Read(int pid, TimeSpan at)
    {
        try
        {
            var anon = Field(File.ReadLines($"/proc/{pid}/status"), "RssAnon:");
            var pss = Field(File.ReadLines($"/proc/{pid}/smaps_rollup"), "Pss:");
            if (anon is null || pss is null) return false;
            Readings.Add(new Reading(at, anon.Value, pss.Value));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // exited between two reads
        }
    }

    /// <summary>The readings from <paramref name="from"/> on (after a warm-up).</summary>
    public List<Reading> After(TimeSpan from) => Readings.Where(r => r.At >= from).ToList();

    /// <summary>"41.2 -> 43.0 MB (max 44.1)": RssAnon over the readings given.</summary>
    public static string Describe(IReadOnlyList<Reading> readings, Func<Reading, long> of) => readings.Count == 0
        ? "no reading"
        : string.Create(CultureInfo.InvariantCulture, $"{Mb(of(readings[0]))} -> {Mb(of(readings[^1]))} MB (max {Mb(readings.Max(of))})");

    public static string Mb(long kb) => (kb / 1024.0).ToString("0.0", CultureInfo.InvariantCulture);

    static long? Field(IEnumerable<string> lines, string name)
    {
        var line = lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal));
        return line is null ? null : long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
