using System.Text.Json;
using Snapper.Consumers;
using Snapper.Report.Export;
using Snapper.Store;
using static Snapper.Report.Tests.ProfileBuilder;

namespace Snapper.Report.Tests;

/// <summary>
/// Each export read back by an implementation no one here wrote (tests/consumers: speedscope's published schema,
/// pprof-format, Chrome DevTools' trace engine, ajv), and its totals compared with the report's analysis of the same
/// profile under the same idle rule: per thread, per method (self and total) and overall, in samples, wall and CPU time.
/// </summary>
public sealed class ExportConsumerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("snapper-export-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>"demo" has CPU time and an idle thread-pool thread, shown with "+idle"; "service" no CPU time.</summary>
    public static TheoryData<string> Profiles => new() { "demo", "demo+idle", "service", "hostile", "empty" };

    /// <summary>The profile as the export command hands it to an exporter, and the report's analysis of the same view.</summary>
    static (Profile Exported, ProfileAnalysis Analysis) Named(string name)
    {
        var profile = name switch
        {
            "demo" or "demo+idle" => SampleProfiles.Demo(),
            "service" => SampleProfiles.Service(samplesPerThread: 300),
            "hostile" => Hostile(),
            _ => new ProfileBuilder().Build(SessionEndReason.Running, ended: false),
        };
        var options = new ReportOptions { IncludeIdle = name.EndsWith("+idle", StringComparison.Ordinal) };
        return (ProfileFilter.Apply(profile, options), ProfileAnalysis.Analyze(profile, includeIdle: options.IncludeIdle));
    }

    /// <summary>Names a target can give its types, methods and threads that break naive writers of each format.</summary>
    static Profile Hostile()
    {
        var b = new ProfileBuilder();
        var thread = b.Thread(1, "evil;thread\nname \"quoted\" 42");
        var other = b.Thread(2, "");
        b.Sample(thread, b.Stack(Managed("A;B", "M\r\nN"), Managed("<Program>g__Local|0_0</script>", "\"'&\u2028é"), Native("", "")), 7, SampleState.Cpu, 1_000);
        b.Sample(thread, b.Stack(Managed("A;B", "M\r\nN"), Managed("Ends with a number", "12")), 3);
        b.Sample(other, b.Stack(Transition("libc!usleep")), 4);
        return b.Build();
    }

    [SkippableTheory]
    [MemberData(nameof(Profiles))]
    public void Speedscope_validates_against_speedscopes_schema_with_the_reports_totals(string name)
    {
        var (profile, analysis) = Named(name);
        var period = Exports.PeriodNs(profile);
        var summary = NodeConsumer.Check("speedscope-check", Exports.ToFile(_dir, ExportFormat.Speedscope, profile));

        Assert.Equal("snapper@golden", summary.GetProperty("exporter").GetString());
        var profiles = summary.GetProperty("profiles").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.All(profiles.Values, p => Assert.Equal("nanoseconds", p.GetProperty("unit").GetString()));
        var threads = Exports.ThreadNodes(analysis);
        var functions = Exports.FunctionsByName(analysis);

        Assert.Equal(analysis.TotalSamples * period, profiles["All threads, wall time"].GetProperty("total").GetInt64());
        foreach (var (label, node) in threads) Assert.Equal(node.Total * period, profiles[$"{label}, wall time"].GetProperty("total").GetInt64());
        // Wall time: the methods with samples (a "[ran between samples]" frame carries CPU time only).
        AssertFunctions(functions.Where(f => f.Value.Total > 0).ToDictionary(f => f.Key, f => (f.Value.Self * period, f.Value.Total * period)),
            profiles["All threads, wall time"].GetProperty("functions"));

        var withCpu = threads.Where(t => t.Value.TotalCpuNs > 0).ToList();
        Assert.Equal(1 + threads.Count + (analysis.TotalCpuNs > 0 ? 1 + withCpu.Count : 0), profiles.Count);
        if (analysis.TotalCpuNs == 0) return;
        Assert.Equal(analysis.TotalCpuNs, profiles["All threads, CPU time"].GetProperty("total").GetInt64());
        foreach (var (label, node) in withCpu) Assert.Equal(node.TotalCpuNs, profiles[$"{label}, CPU time"].GetProperty("total").GetInt64());
        AssertFunctions(functions.Where(f => f.Value.TotalCpuNs > 0).ToDictionary(f => f.Key, f => (f.Value.SelfCpuNs, f.Value.TotalCpuNs)),
            profiles["All threads, CPU time"].GetProperty("functions"));
    }

    [SkippableTheory]
    [MemberData(nameof(Profiles))]
    public void Pprof_decodes_with_an_independent_decoder_with_the_reports_totals(string name)
    {
        var (profile, analysis) = Named(name);
        var period = Exports.PeriodNs(profile);
        var summary = NodeConsumer.Check("pprof-check", Exports.ToFile(_dir, ExportFormat.Pprof, profile));
        var hasCpu = analysis.TotalCpuNs > 0;

        Assert.Equal(hasCpu ? ["samples/count", "wall/nanoseconds", "cpu/nanoseconds"] : ["samples/count", "wall/nanoseconds"],
            summary.GetProperty("sampleTypes").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("wall/nanoseconds", summary.GetProperty("periodType").GetString());
        Assert.Equal("wall", summary.GetProperty("defaultSampleType").GetString());
        Assert.Equal(period, summary.GetProperty("period").GetInt64());
        Assert.Equal((Start - DateTime.UnixEpoch).Ticks * 100, summary.GetProperty("timeNanos").GetInt64());
        var expectedDuration = profile.Session.EndedUtc is { } ended ? (ended - Start).Ticks * 100 : 0;
        Assert.Equal(expectedDuration, summary.GetProperty("durationNanos").GetInt64());
        Assert.Equal(["snapper@golden", "DemoApp (pid 4242), session 7"], summary.GetProperty("comments").EnumerateArray().Select(c => c.GetString()));
        long[] Values(long samples, long cpuNs) => hasCpu ? [samples, samples * period, cpuNs] : [samples, samples * period];
        Assert.Equal(Values(analysis.TotalSamples, analysis.TotalCpuNs), summary.GetProperty("totals").EnumerateArray().Select(t => t.GetInt64()));

        var threads = summary.GetProperty("threads");
        Assert.Equal(Exports.ThreadNodes(analysis).Keys.Order(StringComparer.Ordinal), threads.EnumerateObject().Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var (label, node) in Exports.ThreadNodes(analysis))
        {
            var labelled = threads.GetProperty(label);
            Assert.Equal(node.Thread!.OsThreadId, labelled.GetProperty("threadId").GetInt32());
            Assert.Equal(Values(node.Total, node.TotalCpuNs), labelled.GetProperty("values").EnumerateArray().Select(v => v.GetInt64()));
        }
        var functions = Exports.FunctionsByName(analysis);
        var totals = summary.GetProperty("functionTotals");
        AssertFunctions(functions.Where(f => f.Value.Total > 0).ToDictionary(f => f.Key, f => (f.Value.Self, f.Value.Total)), totals.GetProperty("samples/count"),
            ignoreZero: true);
        if (hasCpu)
            AssertFunctions(functions.Where(f => f.Value.TotalCpuNs > 0).ToDictionary(f => f.Key, f => (f.Value.SelfCpuNs, f.Value.TotalCpuNs)),
                totals.GetProperty("cpu/nanoseconds"), ignoreZero: true);
    }

    [SkippableTheory]
    [MemberData(nameof(Profiles))]
    public void Folded_round_trips_into_the_reports_totals(string name)
    {
        var (profile, analysis) = Named(name);
        var merged = NodeConsumer.Check("folded-check", Exports.ToFile(_dir, ExportFormat.Folded, profile));
        var perThread = NodeConsumer.Check("folded-check", Exports.ToFile(_dir, ExportFormat.Folded, profile, Exports.Fixed with { PerThread = true }));

        Assert.Equal(analysis.TotalSamples, merged.GetProperty("total").GetInt64());
        Assert.Equal(analysis.TotalSamples, perThread.GetProperty("total").GetInt64());
        var functions = Exports.FunctionsByName(analysis, FoldedExporter.FrameText).Where(f => f.Value.Total > 0) // folded counts samples only
            .ToDictionary(f => f.Key, f => (f.Value.Self, f.Value.Total));
        // Samples with no frame stand on a frame of their own when there is no thread root.
        var frameless = analysis.CallTree.Children.Sum(n => n.Self);
        if (frameless > 0) functions[FoldedExporter.NoFrames] = (frameless, frameless);
        AssertFunctions(functions, merged.GetProperty("functions"));
        Assert.Equal(Exports.ThreadNodes(analysis).Select(t => (FoldedExporter.FrameText(t.Key), t.Value.Total)).OrderBy(t => t.Item1, StringComparer.Ordinal),
            perThread.GetProperty("roots").EnumerateObject().Select(r => (r.Name, r.Value.GetInt64())).OrderBy(t => t.Name, StringComparer.Ordinal));
    }

    [SkippableTheory]
    [MemberData(nameof(Profiles))]
    public void Chromium_trace_passes_the_schema_and_loads_in_devtools_trace_engine_with_one_track_per_thread(string name)
    {
        var (profile, analysis) = Named(name);
        var summary = NodeConsumer.Check("chromium-check", Exports.ToFile(_dir, ExportFormat.Chromium, profile));

        Assert.Equal("snapper@golden", summary.GetProperty("otherData").GetProperty("exporter").GetString());
        Assert.Equal("DemoApp", summary.GetProperty("processes").GetProperty("4242").GetString());
        var tracks = summary.GetProperty("threads").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        // A thread's frames are on its track; samples with no frame leave a gap, so they are in no event.
        var withFrames = Exports.ThreadNodes(analysis).Where(t => t.Value.Total > t.Value.Self).ToList();
        Assert.Equal(withFrames.Select(t => t.Key).Order(StringComparer.Ordinal), tracks.Keys.Order(StringComparer.Ordinal));
        foreach (var (label, node) in withFrames)
        {
            Assert.Equal(node.Total - node.Self, tracks[label].GetProperty("rootSamples").GetInt64());
            Assert.Equal(node.Thread!.OsThreadId, tracks[label].GetProperty("tid").GetInt32());
            // Callers above callees: DevTools' top frames are the outermost frames of the thread's stacks.
            // A timeline spans samples: CPU time used between snapshots ("[ran between samples]") has no span of its own.
            Assert.Equal(node.Children.Where(c => c.Total > 0).Select(c => c.Name).Distinct().Order(StringComparer.Ordinal),
                tracks[label].GetProperty("devToolsRootNames").EnumerateArray().Select(n => n.GetString()).Order(StringComparer.Ordinal));
        }
    }

    /// <summary>Every method with its self and total, and no other (a method of no weight may be absent with <paramref name="ignoreZero"/>).</summary>
    static void AssertFunctions(Dictionary<string, (long Self, long Total)> expected, JsonElement actual, bool ignoreZero = false)
    {
        var read = actual.EnumerateObject()
            .Select(p => (p.Name, Self: p.Value.GetProperty("self").GetInt64(), Total: p.Value.GetProperty("total").GetInt64()))
            .Where(f => !ignoreZero || f.Total > 0);
        Assert.Equal(expected.Select(e => (e.Key, e.Value.Self, e.Value.Total)).OrderBy(e => e.Key, StringComparer.Ordinal),
            read.OrderBy(e => e.Name, StringComparer.Ordinal));
    }
}
