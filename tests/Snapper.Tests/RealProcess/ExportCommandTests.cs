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

/// <summary>`snapper export` of a real capture: every format read by its independent consumer, totals equal to the JSON report's.</summary>
public sealed class ExportCommandTests(ExportCapture capture) : IClassFixture<ExportCapture>
{
    long Samples => capture.Report.GetProperty("session").GetProperty("samples").GetInt64();

    Dictionary<string, long> ThreadSamples => capture.Report.GetProperty("threads").EnumerateArray()
        .Where(t => t.GetProperty("samples").GetInt64() > 0)
        .ToDictionary(t => t.GetProperty("label").GetString()!, t => t.GetProperty("samples").GetInt64());

    string Export(string format, params string[] more)
    {
        var output = capture.File("capture-" + format + string.Concat(more) + ".export");
        var result = SnapperCli.Run(["export", "--db", capture.Db, "--format", format, "-o", output, .. more]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"Export: {output}\n", result.Stdout);
        return output;
    }

    [SkippableFact]
    public void Every_format_is_read_by_its_consumer_with_the_json_reports_totals()
    {
        NodeConsumer.RequireTools();
        var threads = ThreadSamples;

        var pprof = NodeConsumer.Check("pprof-check", Export("pprof"));
        var period = pprof.GetProperty("period").GetInt64();
        var achieved = capture.Report.GetProperty("session").GetProperty("achievedRate").GetDouble();
        Assert.InRange(1e9 / period, achieved * 0.999, achieved * 1.001);
        Assert.Equal([Samples, Samples * period], pprof.GetProperty("totals").EnumerateArray().Select(v => v.GetInt64()));
        Assert.Equal(threads.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => (t.Key, t.Value)),
            pprof.GetProperty("threads").EnumerateObject().Select(t => (t.Name, t.Value.GetProperty("values")[0].GetInt64())).OrderBy(t => t.Name, StringComparer.Ordinal));
        AssertTopFunctions(pprof.GetProperty("functionTotals").GetProperty("samples/count"), 1);

        var speedscope = NodeConsumer.Check("speedscope-check", Export("speedscope"));
        Assert.Matches(@"^snapper@\d+\.\d+\.\d+$", speedscope.GetProperty("exporter").GetString());
        var profiles = speedscope.GetProperty("profiles").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("total").GetInt64());
        Assert.Equal(Samples * period, profiles["All threads, wall time"]);
        foreach (var (label, samples) in threads) Assert.Equal(samples * period, profiles[$"{label}, wall time"]);
        AssertTopFunctions(speedscope.GetProperty("profiles")[0].GetProperty("functions"), period);

        var folded = NodeConsumer.Check("folded-check", Export("folded", "--per-thread"));
        Assert.Equal(Samples, folded.GetProperty("total").GetInt64());
        Assert.Equal(threads.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => (t.Key, t.Value)),
            folded.GetProperty("roots").EnumerateObject().Select(r => (r.Name, r.Value.GetInt64())).OrderBy(t => t.Name, StringComparer.Ordinal));

        // A thread's track covers its samples with frames: its call tree node's total less its self (frameless) samples.
        var chromium = NodeConsumer.Check("chromium-check", Export("chromium"));
        var tracks = chromium.GetProperty("threads").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("rootSamples").GetInt64());
        var threadNodes = capture.Report.GetProperty("callTree").EnumerateArray().Where(n => n.GetProperty("kind").GetString() == "thread").ToList();
        Assert.Equal(threads.Count, threadNodes.Count);
        foreach (var node in threadNodes)
        {
            var name = node.GetProperty("name").GetString()!;
            var withFrames = node.GetProperty("total").GetInt64() - node.GetProperty("self").GetInt64();
            if (withFrames == 0) Assert.False(tracks.ContainsKey(name), name);
            else Assert.Equal(withFrames, tracks[name]);
        }
        Assert.Contains(tracks.Keys, name => name.StartsWith("Order pipeline: settlement worker #1 (tid ", StringComparison.Ordinal));
    }

    [Fact]
    public void Folded_to_stdout_has_the_json_reports_total()
    {
        var result = SnapperCli.Run("export", "--db", capture.Db, "--format", "folded", "-o", "-");
        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Samples, lines.Sum(line => long.Parse(line[(line.LastIndexOf(' ') + 1)..])));
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

    /// <summary>The JSON report's top functions, self and total, as the consumer counted them (in its unit per sample).</summary>
    void AssertTopFunctions(JsonElement consumerFunctions, long unit)
    {
        var top = capture.Report.GetProperty("topFunctions").EnumerateArray().ToList();
        var uniqueNames = top.GroupBy(f => f.GetProperty("name").GetString()!).Where(g => g.Count() == 1).Select(g => g.Single());
        foreach (var function in uniqueNames)
        {
            var name = function.GetProperty("name").GetString()!;
            var counted = consumerFunctions.GetProperty(name);
            Assert.Equal((function.GetProperty("self").GetInt64() * unit, function.GetProperty("total").GetInt64() * unit),
                (counted.GetProperty("self").GetInt64(), counted.GetProperty("total").GetInt64()));
        }
    }
}
