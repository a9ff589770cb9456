using System.Globalization;

namespace Snapper.Sampling.Linux;

/// <summary>Reads what /proc says about a process. Every method tolerates the process vanishing meanwhile.</summary>
static class ProcFs
{
    public static bool ProcessExists(int pid) => pid > 0 && Directory.Exists($"/proc/{pid}");

    /// <summary>Thread ids of the process, or an empty array once it is gone.</summary>
    public static int[] ListThreads(int pid)
    {
        try
        {
            var entries = Directory.GetDirectories($"/proc/{pid}/task");
            var tids = new List<int>(entries.Length);
            foreach (var entry in entries)
                if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var tid)) tids.Add(tid);
            tids.Sort();
            return tids.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public static string? ReadThreadComm(int pid, int tid) => ReadTrimmed($"/proc/{pid}/task/{tid}/comm");

    public static string? ReadComm(int pid) => ReadTrimmed($"/proc/{pid}/comm");

    /// <summary>The command line with arguments joined by spaces, or empty.</summary>
    public static string ReadCommandLine(int pid) => string.Join(' ', ReadArguments(pid));

    /// <summary>The arguments the process was started with; empty once it is gone (or for a kernel thread).</summary>
    public static string[] ReadArguments(int pid)
    {
        try
        {
            var raw = File.ReadAllBytes($"/proc/{pid}/cmdline");
            var text = System.Text.Encoding.UTF8.GetString(raw).TrimEnd('\0');
            return text.Length == 0 ? [] : text.Split('\0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>
    /// The process's id in each PID namespace it belongs to, outermost first (the NSpid line of its status): one id when
    /// it runs in the initial namespace; its last id is the one its own runtime knows it by. Empty when unreadable.
    /// </summary>
    public static int[] NamespacePids(string pid) => NamespacePidsIn($"/proc/{pid}/status");

    /// <summary>A thread's ids in each PID namespace it is in, Snapper's first (NSpid); empty when unreadable.</summary>
    public static int[] NamespaceTids(int pid, int tid) => NamespacePidsIn($"/proc/{pid}/task/{tid}/status");

    static int[] NamespacePidsIn(string statusFile)
    {
        try
        {
            foreach (var line in File.ReadLines(statusFile))
                if (line.StartsWith("NSpid:", StringComparison.Ordinal))
                    return line["NSpid:".Length..].Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)
                        .Select(id => int.Parse(id, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return [];
    }

    /// <summary>True when the process sees a different filesystem tree than Snapper (another mount namespace).</summary>
    public static bool HasOwnMountNamespace(int pid)
    {
        try
        {
            var mine = new FileInfo("/proc/self/ns/mnt").LinkTarget;
            var theirs = new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget;
            return mine is not null && theirs is not null && mine != theirs;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The program the process runs (/proc/PID/exe), or null when gone or unreadable.</summary>
    public static string? ReadExecutable(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/exe").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Every process id in /proc, ascending.</summary>
    public static List<int> ListProcesses()
    {
        var pids = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) pids.Add(pid);
        pids.Sort();
        return pids;
    }

    /// <summary>When the process started, from its start time in clock ticks after boot (stat field 22); null when gone.</summary>
    public static DateTime? ReadStartTimeUtc(int pid)
    {
        if (ReadStartTicks(pid) is not { } ticks) return null;
        var boot = ReadLines("/proc/stat").FirstOrDefault(l => l.StartsWith("btime ", StringComparison.Ordinal));
        if (boot is null || !long.TryParse(boot.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var bootSeconds)) return null;
        // USER_HZ is 100 on every Linux architecture .NET runs on.
        return DateTime.UnixEpoch.AddSeconds(bootSeconds).AddTicks((long)ticks * (TimeSpan.TicksPerSecond / 100));
    }

    /// <summary>The process's start time in clock ticks after boot (stat field 22): with the pid, names this process and no later one; null when gone.</summary>
    public static ulong? ReadStartTicks(int pid)
    {
        var stat = ReadTrimmed($"/proc/{pid}/stat");
        if (stat is null) return null;
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): field 22 is at index 19.
        return fields.Length >= 20 && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
    }

    /// <summary>The pid of the process tracing <paramref name="pid"/>, 0 when none.</summary>
    public static int ReadTracerPid(int pid)
    {
        foreach (var line in ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("TracerPid:", StringComparison.Ordinal)
                && int.TryParse(line.AsSpan(10).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var tracer))
                return tracer;
        return 0;
    }

    /// <summary>
    /// How many times the thread has been switched off a CPU (voluntary_ctxt_switches + nonvoluntary_ctxt_switches in
    /// /proc/PID/task/TID/status), or null when it cannot be read.
    /// </summary>
    public static long? ReadContextSwitches(int pid, int tid)
    {
        try
        {
            long total = 0;
            var found = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/task/{tid}/status"))
                if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                {
                    total += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                    found++;
                }
            return found == 2 ? total : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The single-letter scheduler state of a thread (R, S, D, T, t, Z, ...), or '?' when unknown.</summary>
    public static char ReadThreadState(int pid, int tid)
    {
        var stat = ReadTrimmed($"/proc/{pid}/task/{tid}/stat");
        if (stat is null) return '?';
        // The comm field is in parentheses and may itself contain ") ": the state follows the last one.
        var close = stat.LastIndexOf(')');
        return close >= 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
    }

    /// <summary>Executable-or-library mappings: (start address, file offset, path), in address order.</summary>
    public static List<(ulong Start, ulong Offset, string Path)> ReadFileMappings(int pid) =>
        ReadMappings(pid).Where(m => m.Path.StartsWith('/')).Select(m => (m.Start, m.Offset, m.Path)).ToList();

    /// <summary>One line of /proc/PID/maps: the range, its permissions ("r-xp"), file offset and path ("" when anonymous).</summary>
    public readonly record struct Mapping(ulong Start, ulong End, string Permissions, ulong Offset, string Path);

    /// <summary>The process's mappings, in address order, read lazily (an exception surfaces while enumerating).</summary>
    public static IEnumerable<Mapping> ReadMappings(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/maps"))
        {
            // 7f2e67a00000-7f2e67a28000 r--p 00000000 fe:01 1234  /usr/lib/x86_64-linux-gnu/libc.so.6
            var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 5) continue;
            var dash = parts[0].IndexOf('-');
            var start = ulong.Parse(parts[0].AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var end = ulong.Parse(parts[0].AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var offset = ulong.Parse(parts[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            yield return new Mapping(start, end, parts[1], offset, parts.Length == 6 ? parts[5].Trim() : "");
        }
    }

    static string? ReadTrimmed(string path)
    {
        try
        {
            return File.ReadAllText(path).TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    static IEnumerable<string> ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
