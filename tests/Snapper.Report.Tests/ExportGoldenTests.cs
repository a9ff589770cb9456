using System.IO.Compression;
using Google.Protobuf;
using Snapper.Report.Export;

namespace Snapper.Report.Tests;

/// <summary>Every export of the demo profile, byte for byte against Golden/ (SNAPPER_UPDATE_GOLDEN=1 regenerates).</summary>
public sealed class ExportGoldenTests
{
    [Fact]
    public void Speedscope_matches_golden() =>
        Golden.AssertMatches("demo.speedscope.json", Exports.Text(ExportFormat.Speedscope, SampleProfiles.Demo()));

    [Fact]
    public void Folded_matches_golden() =>
        Golden.AssertMatches("demo.folded", Exports.Text(ExportFormat.Folded, SampleProfiles.Demo()));

    [Fact]
    public void Folded_per_thread_matches_golden() =>
        Golden.AssertMatches("demo-per-thread.folded", Exports.Text(ExportFormat.Folded, SampleProfiles.Demo(), Exports.Fixed with { PerThread = true }));

    [Fact]
    public void Chromium_trace_matches_golden() =>
        Golden.AssertMatches("demo.trace.json", Exports.Text(ExportFormat.Chromium, SampleProfiles.Demo()));

    /// <summary>
    /// Compared decoded, as protobuf's JSON form: the compressed bytes depend on the runtime's zlib, the message does
    /// not, and a diff of JSON can be reviewed.
    /// </summary>
    [Fact]
    public void Pprof_message_matches_golden()
    {
        var bytes = Exports.Bytes(ExportFormat.Pprof, SampleProfiles.Demo());
        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        var message = Perftools.Profiles.Profile.Parser.ParseFrom(gzip);
        var json = new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation()).Format(message);
        Golden.AssertMatches("demo.pprof.json", json + "\n");
    }
}
