using System.Text.Json;
using Snapper.Consumers;
using Snapper.Report.Export;
using Snapper.Store;
using static Snapper.Report.Tests.ProfileBuilder;

namespace Snapper.Report.Tests;

/// <summary>
/// Each export read back by an implementation no one here wrote (tests/consumers: speedscope's published schema,
/// pprof-format, Chrome DevTools' trace engine, ajv), and its totals compared with the report's analysis of the same
/// profile: per thread, per method (self and total) and overall.
/// </summary>
public sealed class ExportConsumerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("snapper-export-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Profiles => new() { "demo", "service", "hostile", "empty" };

    static Profile Named(string name) => name switch
    {
        "demo" => SampleProfiles.Demo(),
        "service" => SampleProfiles.Service(samplesPerThread: 300),
        "hostile" => Hostile(),
        _ => new ProfileBuilder().Build(SessionEndReason.Running, ended: false),
    };

    /// <summary>Names a target can give its types, methods and threads that break naive writers of each format.</summary>
    static Profile Hostile()
    {
        var b = new ProfileBuilder();
        var thread = b.Thread(1, "evil;thread\nname \"quoted\" 42");
        var other = b.Thread(2, "");
        b.Sample(thread, b.Stack(Managed("A;B", "M\r\nN"), Managed("<Program>g__Local|0_0</script>", "\"'&\u2028é"), Native("", "")), 7);
        b.Sample(thread, b.Stack(Managed("A;B", "M\r\nN"), Managed("Ends with a number", "12")), 3);
        b.Sample(other, b.Stack(Transition("libc!usleep")), 4);
        return b.Build();
    }

    [SkippableTheory]
    [MemberData(nameof(Profiles))]
    public void Speedscope_validates_against_speedscopes_schema_with_the_reports_totals(string name)
    {
        var profile = Named(name);
        var analysis = ProfileAnalysis.Analyze(profile);
        var period = Exports.PeriodNs(profile);
        var summary = NodeConsumer.Check("speedscope-check", Exports.ToFile(_dir, ExportFormat.Speedscope, profile));

        Assert.Equal("snapper@golden", summary.GetProperty("exporter").GetString());
        var profiles = summary.GetProperty("profiles").EnumerateArray().ToList();
        Assert.Equal(1 + analysis.Threads.Count(t => t.Samples > 0), profiles.Count);
        Assert.Equal("All threads, wall time", profiles[0].GetProperty("name").GetString());
        Assert.All(profiles, p => Assert.Equal("nanoseconds", p.GetProperty("unit").GetString()));
        Assert.Equal(analysis.TotalSamples * period, profiles[0].GetProperty("total").GetInt64());
        foreach (var (thread, samples) in analysis.Threads.Where(t => t.Samples > 0))
        {
            var perThread = profiles.Single(p => p.GetProperty("name").GetString() == $"{thread.Label}, wall time");
            Assert.Equal(samples * period, perThread.GetProperty("total").GetInt64());
        }
        AssertFunctions(Exports.FunctionsByName(analysis), profiles[0].GetProperty("functions"), period);
    }

    [SkippableTheory]
    [MemberData(nameof(Profiles))]
    public void Pprof_decodes_with_an_independent_decoder_with_the_reports_totals(string name)
    {
        var profile = Named(name);
        var analysis = ProfileAnalysis.Analyze(profile);
        var period = Exports.PeriodNs(profile);
        var summary = NodeConsumer.Check("pprof-check", Exports.ToFile(_dir, ExportFormat.Pprof, profile));

        Assert.Equal(["samples/count", "wall/nanoseconds"], summary.GetProperty("sampleTypes").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("wall/nanoseconds", summary.GetProperty("periodType").GetString());
        Assert.Equal("wall", summary.GetProperty("defaultSampleType").GetString());
        Assert.Equal(period, summary.GetProperty("period").GetInt64());
        Assert.Equal((Start - DateTime.UnixEpoch).Ticks * 100, summary.GetProperty("timeNanos").GetInt64());
        var expectedDuration = profile.Session.EndedUtc is { } ended ? (ended - Start).Ticks * 100 : 0;
        Assert.Equal(expectedDuration, summary.GetProperty("durationNanos").GetInt64());
        Assert.Equal(["snapper@golden", "DemoApp (pid 4242), session 7"], summary.GetProperty("comments").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal([analysis.TotalSamples, analysis.TotalSamples * period], summary.GetProperty("totals").EnumerateArray().Select(t => t.GetInt64()));

        var threads = summary.GetProperty("threads");
        foreach (var (thread, samples) in analysis.Threads.Where(t => t.Samples > 0))
        {
            var labelled = threads.GetProperty(thread.Label);
            Assert.Equal(thread.OsThreadId, labelled.GetProperty("threadId").GetInt32());
            Assert.Equal([samples, samples * period], labelled.GetProperty("values").EnumerateArray().Select(v => v.GetInt64()));
        }
        AssertFunctions(Exports.FunctionsByName(analysis), summary.GetProperty("functionTotals").GetProperty("samples/count"), 1);
    }

    [SkippableTheory]
    [MemberData(nameof(Profiles))]
    public void Folded_round_trips_into_the_reports_totals(string name)
    {
        var profile = Named(name);
        var analysis = ProfileAnalysis.Analyze(profile);
        var merged = NodeConsumer.Check("folded-check", Exports.ToFile(_dir, ExportFormat.Folded, profile));
        var perThread = NodeConsumer.Check("folded-check", Exports.ToFile(_dir, ExportFormat.Folded, profile, Exports.Fixed with { PerThread = true }));

        Assert.Equal(analysis.TotalSamples, merged.GetProperty("total").GetInt64());
        Assert.Equal(analysis.TotalSamples, perThread.GetProperty("total").GetInt64());
        var functions = Exports.FunctionsByName(analysis, FoldedExporter.FrameText);
        // Samples with no frame stand on a frame of their own when there is no thread root.
        var frameless = analysis.CallTree.Children.Sum(n => n.Self);
        if (frameless > 0) functions[FoldedExporter.NoFrames] = (frameless, frameless);
        AssertFunctions(functions, merged.GetProperty("functions"), 1);
        var roots = perThread.GetProperty("roots");
        foreach (var (thread, samples) in analysis.Threads.Where(t => t.Samples > 0))
            Assert.Equal(samples, roots.GetProperty(FoldedExporter.FrameText(thread.Label)).GetInt64());
    }

    [SkippableTheory]
    [MemberData(nameof(Profiles))]
    public void Chromium_trace_passes_the_schema_and_loads_in_devtools_trace_engine_with_one_track_per_thread(string name)
    {
        var profile = Named(name);
        var analysis = ProfileAnalysis.Analyze(profile);
        var summary = NodeConsumer.Check("chromium-check", Exports.ToFile(_dir, ExportFormat.Chromium, profile));

        Assert.Equal("snapper@golden", summary.GetProperty("otherData").GetProperty("exporter").GetString());
        Assert.Equal("DemoApp", summary.GetProperty("processes").GetProperty("4242").GetString());
        var tracks = summary.GetProperty("threads").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        // A thread's frames are on its track; samples with no frame leave a gap, so they are not in any event.
        var threadNodes = analysis.CallTree.Children.ToDictionary(n => n.Thread!.Label);
        foreach (var (thread, samples) in analysis.Threads.Where(t => t.Samples > 0))
        {
            var withFrames = samples - threadNodes[thread.Label].Self;
            if (withFrames == 0)
            {
                Assert.False(tracks.ContainsKey(thread.Label));
                continue;
            }
            Assert.Equal(withFrames, tracks[thread.Label].GetProperty("rootSamples").GetInt64());
            Assert.Equal(thread.OsThreadId, tracks[thread.Label].GetProperty("tid").GetInt32());
            // Callers above callees: DevTools' top frames are the outermost frames of the thread's stacks.
            Assert.Equal(threadNodes[thread.Label].Children.Select(c => c.Name).Distinct().Order(StringComparer.Ordinal),
                tracks[thread.Label].GetProperty("devToolsRootNames").EnumerateArray().Select(n => n.GetString()).Order(StringComparer.Ordinal));
        }
        Assert.Equal(threadNodes.Values.Count(n => n.Total > n.Self), tracks.Count);
    }

    /// <summary>Every method of the report with the same self and total (in the export's unit), and no method the report lacks.</summary>
    static void AssertFunctions(Dictionary<string, (long Self, long Total)> expected, JsonElement actual, long unit)
    {
        var read = actual.EnumerateObject().Select(p => (p.Name, p.Value.GetProperty("self").GetInt64(), p.Value.GetProperty("total").GetInt64()));
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => (e.Key, e.Value.Self * unit, e.Value.Total * unit)),
            read.OrderBy(e => e.Name, StringComparer.Ordinal));
    }
}
