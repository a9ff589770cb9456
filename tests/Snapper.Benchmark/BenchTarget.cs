using System.Diagnostics;

namespace Snapper.Benchmark;

/// <summary>The benchmark target process (Snapper.TestTarget "bench"): asks it how much work it has done.</summary>
sealed class BenchTarget : IDisposable
{
    readonly Process _process;

    public int Pid => _process.Id;
    public int Threads { get; }

    BenchTarget(Process process, int threads)
    {
        _process = process;
        Threads = threads;
    }

    public static BenchTarget Start(int spinning, int blocked)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll");
        var info = new ProcessStartInfo(DotnetHost(), [dll, "bench", spinning.ToString(), blocked.ToString()])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(info)!;
        var ready = process.StandardOutput.ReadLine();
        if (ready?.StartsWith("READY", StringComparison.Ordinal) != true)
            throw new InvalidOperationException($"benchmark target did not start: {ready}");
        return new BenchTarget(process, Directory.GetDirectories($"/proc/{process.Id}/task").Length);
    }

    /// <summary>Units of work done so far, and when they were read.</summary>
    public (long Work, long Timestamp) Query()
    {
        _process.StandardInput.WriteLine("?");
        _process.StandardInput.Flush();
        var line = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("benchmark target exited");
        return (long.Parse(line.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture), Stopwatch.GetTimestamp());
    }

    public static double Rate((long Work, long Timestamp) from, (long Work, long Timestamp) to) =>
        (to.Work - from.Work) / Stopwatch.GetElapsedTime(from.Timestamp, to.Timestamp).TotalSeconds;

    static string DotnetHost()
    {
        var root = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var candidate = Path.Combine(root, "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
