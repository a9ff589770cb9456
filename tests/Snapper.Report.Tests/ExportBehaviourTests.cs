using System.IO.Compression;
using System.Text.Json;
using Snapper.Report.Export;
using Snapper.Store;
using static Snapper.Report.Tests.ProfileBuilder;

namespace Snapper.Report.Tests;

/// <summary>How sessions map onto each format, case by case (docs/exports.md describes the mapping).</summary>
public sealed class ExportBehaviourTests
{
    static readonly FrameInfo Main = Managed("Program", "Main"), Work = Managed("Program", "Work"), Wait = Managed("Program", "Wait");

    [Fact]
    public void Chromium_merges_consecutive_samples_per_frame_level_and_breaks_at_gaps()
    {
        var b = new ProfileBuilder();
        var t = b.Thread(1, "T");
        b.Sample(t, b.Stack(Main, Work), 2).Sample(t, b.Stack(Main, Wait)).Sample(t, 0).Sample(t, b.Stack(Main, Wait)).Skip(t).Sample(t, b.Stack(Main, Wait));
        b.Sample(b.Thread(2, "other"), b.Stack(Main), 7); // makes snapshots 1-7 exist, 10 ms apart
        var events = CompleteEvents(b.Build()).Where(e => e.Tid == 1001).ToList();

        // Snapshots 1-2 Work, 3 Wait, 4 nothing, 5 Wait, 6 absent, 7 Wait (the last: one period, 10.076 ms).
        Assert.Equal(
        [
            ("Program.Main", 0L, 30_000L, 3L), ("Program.Work", 0, 20_000, 2), ("Program.Wait", 20_000, 10_000, 1),
            ("Program.Main", 40_000, 10_000, 1), ("Program.Wait", 40_000, 10_000, 1),
            ("Program.Main", 60_000, 10_076, 1), ("Program.Wait", 60_000, 10_076, 1),
        ], events.Select(e => (e.Name, e.Ts, e.Dur, e.Samples)));
    }

    [Fact]
    public void Chromium_gives_a_thread_whose_os_id_was_reused_an_id_no_real_thread_can_have()
    {
        var b = new ProfileBuilder();
        var first = b.Thread(1, "first", osThreadId: 500);
        var reuser = b.Thread(2, "reuser", osThreadId: 500);
        b.Sample(first, b.Stack(Main));
        b.Skip(reuser).Sample(reuser, b.Stack(Work));
        var tids = CompleteEvents(b.Build()).Select(e => e.Tid).Distinct().Order().ToList();

        Assert.Equal([500, ChromiumTraceExporter.ReusedThreadIdBase + 2], tids);
    }

    [Fact]
    public void Speedscope_thread_profiles_keep_time_order_and_merge_only_consecutive_repeats()
    {
        var b = new ProfileBuilder();
        var t = b.Thread(1, "T");
        b.Sample(t, b.Stack(Main, Work), 2).Sample(t, b.Stack(Main, Wait)).Sample(t, b.Stack(Main, Work));
        var profile = b.Build();
        using var json = JsonDocument.Parse(Exports.Text(ExportFormat.Speedscope, profile));
        var frames = json.RootElement.GetProperty("shared").GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToList();
        var thread = json.RootElement.GetProperty("profiles")[1];
        var period = Exports.PeriodNs(profile);

        Assert.Equal("T (tid 1001), wall time", thread.GetProperty("name").GetString());
        Assert.Equal([["Program.Main", "Program.Work"], ["Program.Main", "Program.Wait"], ["Program.Main", "Program.Work"]],
            thread.GetProperty("samples").EnumerateArray().Select(s => s.EnumerateArray().Select(f => frames[f.GetInt32()]).ToArray()));
        Assert.Equal([2 * period, period, period], thread.GetProperty("weights").EnumerateArray().Select(w => w.GetInt64()));
        // The merged profile has one sample per distinct stack.
        Assert.Equal([3 * period, period], json.RootElement.GetProperty("profiles")[0].GetProperty("weights").EnumerateArray().Select(w => w.GetInt64()));
    }

    [Fact]
    public void Pprof_lists_locations_leaf_first_one_per_source_line_of_a_method()
    {
        var profile = SampleProfiles.Demo();
        var message = DecodePprof(profile);
        string FunctionOf(ulong location) =>
            message.StringTable[(int)message.Function.Single(f => f.Id == message.Location.Single(l => l.Id == location).Line[0].FunctionId).Name];

        var deepest = message.Sample.MaxBy(s => s.LocationId.Count)!;
        Assert.Equal(["Parser.Parse", "Parser.Parse", "Parser.Parse", "Server.Handle", "Server.Run", "Program.Main"],
            deepest.LocationId.Select(FunctionOf));
        var handle = message.Function.Single(f => message.StringTable[(int)f.Name] == "Server.Handle");
        Assert.Equal("Program.cs", message.StringTable[(int)handle.Filename]);
        Assert.Equal("DemoApp.dll!Server.Handle", message.StringTable[(int)handle.SystemName]);
        Assert.Equal([10L, 12L], message.Location.Where(l => l.Line[0].FunctionId == handle.Id).Select(l => l.Line[0].Line_).Order());
        Assert.Equal("", message.StringTable[0]);
    }

    [Fact]
    public void Wall_time_per_sample_is_the_achieved_interval_or_the_requested_one_without_an_interval()
    {
        var b = new ProfileBuilder();
        b.Sample(b.Thread(1, "T"), b.Stack(Main));
        var built = b.Build();
        var oneSnapshot = new Profile
        {
            Session = built.Session with { AchievedRate = 0 },
            Frames = built.Frames, Stacks = built.Stacks, Threads = built.Threads, Snapshots = built.Snapshots, Samples = built.Samples,
        };

        Assert.Equal(10_075_567, DecodePprof(built).Period); // 1 / 99.25 Hz achieved
        Assert.Equal(10_000_000, DecodePprof(oneSnapshot).Period); // 1 / 100 Hz requested
    }

    [Fact]
    public void Folded_frames_cannot_split_or_end_a_line()
    {
        Assert.Equal("A:B.M??N?x?", FoldedExporter.FrameText("A;B.M\r\nN\u2028x\u0007"));
        Assert.Equal("?", FoldedExporter.FrameText(""));
        Assert.Equal("List`1.<Sort>b__0 [x]", FoldedExporter.FrameText("List`1.<Sort>b__0 [x]"));
    }

    [Fact]
    public void Exporter_names_itself_with_snappers_version()
    {
        Assert.Matches(@"^snapper@\d+\.\d+\.\d+$", ExportOptions.DefaultExporter);
        Assert.Equal(ExportOptions.DefaultExporter, new ExportOptions().ExporterName);
    }

    static Perftools.Profiles.Profile DecodePprof(Profile profile)
    {
        using var gzip = new GZipStream(new MemoryStream(Exports.Bytes(ExportFormat.Pprof, profile)), CompressionMode.Decompress);
        return Perftools.Profiles.Profile.Parser.ParseFrom(gzip);
    }

    sealed record Complete(string Name, long Ts, long Dur, int Tid, long Samples);

    static List<Complete> CompleteEvents(Profile profile)
    {
        using var json = JsonDocument.Parse(Exports.Text(ExportFormat.Chromium, profile));
        return json.RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(e => e.GetProperty("ph").GetString() == "X")
            .Select(e => new Complete(e.GetProperty("name").GetString()!, e.GetProperty("ts").GetInt64(), e.GetProperty("dur").GetInt64(),
                e.GetProperty("tid").GetInt32(), e.GetProperty("args").GetProperty("samples").GetInt64()))
            .ToList();
    }
}
