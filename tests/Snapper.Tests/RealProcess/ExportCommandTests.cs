using System.Text.Json;
using Snapper.Consumers;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>One real capture of the test target, shared by the export tests.</summary>
public sealed class ExportCapture : IDisposable
{
    readonly TempDirectory _dir = new();

    public ExportCapture()
    {
        using var target = RunningTarget.StartTestTarget("mixed");
        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "40", "--rate", "50", "--db", Db, "--no-report");
        Assert.True(result.ExitCode == 0, result.ToString());
        var report = SnapperCli.Run("report", "--db", Db, "--format", "json", "-o", "-");
        Assert.True(report.ExitCode == 0, report.ToString());
        Report = JsonDocument.Parse(report.Stdout).RootElement.Clone();
    }

    public string Db => _dir.File("capture.db");

    public string File(string name) => _dir.File(name);

    /// <summary><c>snapper report --format json</c> of the capture: the totals every export must keep.</summary>
    public JsonElement Report { get; }

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// `snapper export` of a real capture: every format read by its independent consumer, with the totals of
/// `snapper report --format json` under the same --threads and --idle: samples, wall time and CPU time, overall, per
/// thread and for the top functions.
/// </summary>
public sealed class ExportCommandTests(ExportCapture capture) : IClassFixture<ExportCapture>
{
    JsonElement View => capture.Report.GetProperty("view");
    long Samples => View.GetProperty("samples").GetInt64();
    long CpuNs => View.GetProperty("cpuNs").GetInt64();

    /// <summary>The report's thread nodes: what each thread shows under the idle rule, in samples, frameless samples and CPU.</summary>
    Dictionary<string, (long Total, long Self, long CpuNs)> Threads => capture.Report.GetProperty("callTree").EnumerateArray()
        .Where(n => n.GetProperty("kind").GetString() == "thread")
        .ToDictionary(n => n.GetProperty("name").GetString()!,
            n => (n.GetProperty("total").GetInt64(), n.GetProperty("self").GetInt64(), n.GetProperty("totalCpuNs").GetInt64()));

    string Export(string format, params string[] more)
    {
        var output = capture.File("capture-" + format + string.Concat(more).Replace('|', '_') + ".export");
        var result = SnapperCli.Run(["export", "--db", capture.Db, "--format", format, "-o", output, .. more]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"Export: {output}\n", result.Stdout);
        return output;
    }

    [SkippableFact]
    public void Every_format_is_read_by_its_consumer_with_the_json_reports_totals()
    {
        NodeConsumer.RequireTools();
        var threads = Threads;
        Assert.True(CpuNs > 0, "the capture recorded no CPU time");

        var pprof = NodeConsumer.Check("pprof-check", Export("pprof"));
        var period = pprof.GetProperty("period").GetInt64();
        var achieved = capture.Report.GetProperty("session").GetProperty("achievedRate").GetDouble();
        Assert.InRange(1e9 / period, achieved * 0.999, achieved * 1.001);
        Assert.Equal(["samples/count", "wall/nanoseconds", "cpu/nanoseconds"], pprof.GetProperty("sampleTypes").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal([Samples, Samples * period, CpuNs], pprof.GetProperty("totals").EnumerateArray().Select(v => v.GetInt64()));
        // Threads with samples; a thread whose only weight is CPU used between snapshots ("[ran between samples]", say
        // a finalizer woken for a moment) is in the exports but under the JSON call tree's threshold.
        Assert.Equal(threads.Where(t => t.Value.Total > 0).Select(t => (t.Key, t.Value.Total, t.Value.CpuNs)).OrderBy(t => t.Key, StringComparer.Ordinal),
            pprof.GetProperty("threads").EnumerateObject()
                .Select(t => (t.Name, t.Value.GetProperty("values")[0].GetInt64(), t.Value.GetProperty("values")[2].GetInt64()))
                .Where(t => t.Item2 > 0)
                .OrderBy(t => t.Name, StringComparer.Ordinal));
        AssertTopFunctions(pprof.GetProperty("functionTotals").GetProperty("samples/count"), "self", "total", period: 1);
        AssertTopFunctions(pprof.GetProperty("functionTotals").GetProperty("cpu/nanoseconds"), "selfCpuNs", "totalCpuNs", period: 1);

        var speedscope = NodeConsumer.Check("speedscope-check", Export("speedscope"));
        Assert.Matches(@"^snapper@\d+\.\d+\.\d+$", speedscope.GetProperty("exporter").GetString());
        var profiles = speedscope.GetProperty("profiles").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(Samples * period, profiles["All threads, wall time"].GetProperty("total").GetInt64());
        Assert.Equal(CpuNs, profiles["All threads, CPU time"].GetProperty("total").GetInt64());
        foreach (var (label, node) in threads)
        {
            if (node.Total > 0) Assert.Equal(node.Total * period, profiles[$"{label}, wall time"].GetProperty("total").GetInt64());
            if (node.CpuNs > 0) Assert.Equal(node.CpuNs, profiles[$"{label}, CPU time"].GetProperty("total").GetInt64());
        }
        AssertTopFunctions(profiles["All threads, wall time"].GetProperty("functions"), "self", "total", period);

        var folded = NodeConsumer.Check("folded-check", Export("folded", "--per-thread"));
        Assert.Equal(Samples, folded.GetProperty("total").GetInt64());
        Assert.Equal(threads.Where(t => t.Value.Total > 0).Select(t => (t.Key, t.Value.Total)).OrderBy(t => t.Key, StringComparer.Ordinal),
            folded.GetProperty("roots").EnumerateObject().Select(r => (r.Name, r.Value.GetInt64())).OrderBy(t => t.Name, StringComparer.Ordinal));

        // A thread's track covers its samples with frames: its total less its self (frameless) samples.
        var chromium = NodeConsumer.Check("chromium-check", Export("chromium"));
        var tracks = chromium.GetProperty("threads").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("rootSamples").GetInt64());
        Assert.Equal(threads.Where(t => t.Value.Total > t.Value.Self).Select(t => (t.Key, t.Value.Total - t.Value.Self)).OrderBy(t => t.Key, StringComparer.Ordinal),
            tracks.Select(t => (t.Key, t.Value)).OrderBy(t => t.Key, StringComparer.Ordinal));
        Assert.Contains(tracks.Keys, name => name.StartsWith("Order pipeline: settlement worker #1 (tid ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--threads", "Spinner|Recursor")]
    [InlineData("--idle")]
    public void Folded_to_stdout_counts_what_the_json_report_counts_with_the_same_options(params string[] options)
    {
        var result = SnapperCli.Run(["export", "--db", capture.Db, "--format", "folded", "-o", "-", .. options]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var report = SnapperCli.Run(["report", "--db", capture.Db, "--format", "json", "-o", "-", .. options]);
        var view = JsonDocument.Parse(report.Stdout).RootElement.GetProperty("view");

        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(view.GetProperty("samples").GetInt64(), lines.Sum(line => long.Parse(line[(line.LastIndexOf(' ') + 1)..])));
        Assert.True(view.GetProperty("samples").GetInt64() < Samples == (options[0] == "--threads"), report.Stdout[..200]);
    }

    [Fact]
    public void Errors_are_one_line_and_the_output_is_checked_before_the_database()
    {
        CliErrorTests.AssertError(SnapperCli.Run("export", "--db", capture.Db), 2, "'--format' is required");
        CliErrorTests.AssertError(SnapperCli.Run("export", "--db", capture.Db, "-f", "svg"), 2, "--format must be one of speedscope, folded, pprof, chromium");
        CliErrorTests.AssertError(SnapperCli.Run("export", "--db", capture.Db, "-f", "pprof", "-o", "-"), 2, "pprof is a binary format");
        CliErrorTests.AssertError(SnapperCli.Run("export", "--db", capture.Db, "-f", "speedscope", "--per-thread"), 2, "--per-thread applies to --format folded only");
        CliErrorTests.AssertError(SnapperCli.Run("export", "--db", "/nonexistent-dir/x.db", "-f", "folded", "-o", "/nonexistent-dir/out.folded"), 9, "directory '/nonexistent-dir' does not exist");
        CliErrorTests.AssertError(SnapperCli.Run("export", "--db", capture.Db, "-f", "folded", "-o", Path.GetTempPath()), 9, "it is a directory");
        CliErrorTests.AssertError(SnapperCli.Run("export", "--db", capture.Db, "-f", "chromium", "--session", "42"), 10, "no session 42");
    }

    /// <summary>The JSON report's top functions, as the consumer counted them: <paramref name="period"/> units per sample.</summary>
    void AssertTopFunctions(JsonElement consumerFunctions, string self, string total, long period)
    {
        var top = capture.Report.GetProperty("topFunctions").EnumerateArray().ToList();
        var uniqueNames = top.GroupBy(f => f.GetProperty("name").GetString()!).Where(g => g.Count() == 1).Select(g => g.Single());
        foreach (var function in uniqueNames.Where(f => f.GetProperty(total).GetInt64() > 0))
        {
            var counted = consumerFunctions.GetProperty(function.GetProperty("name").GetString()!);
            Assert.Equal((function.GetProperty(self).GetInt64() * period, function.GetProperty(total).GetInt64() * period),
                (counted.GetProperty("self").GetInt64(), counted.GetProperty("total").GetInt64()));
        }
    }
}
