using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Snapper.Store;
using static Snapper.Report.Tests.ProfileBuilder;

namespace Snapper.Report.Tests;

public sealed partial class HtmlReportTests
{
    const string HostileType = "<img src=x onerror=alert(1)>";
    const string HostileMethod = "</script><script>alert(1)</script>";
    const string HostileThread = "\"'&<>";
    const string HostileCommandLine = "app --x=\"<b>bold</b>\" & 'quoted' </script>";
    const string HostileProcess = "<svg onload=alert(2)>";

    internal static string Html(Profile profile)
    {
        var output = new StringWriter();
        HtmlReportWriter.Write(profile, output);
        return output.ToString();
    }

    static Profile Hostile()
    {
        var b = new ProfileBuilder();
        var thread = b.Thread(1, HostileThread);
        b.Sample(thread, b.Stack(Managed("Program", "Main"), Managed(HostileType, HostileMethod, module: "<b>evil</b>.dll")), 5);
        b.Sample(thread, b.Stack(Managed("Program", "Main"), Native("--><!--<script>", "lib&amp;.so")), 3);
        var profile = b.Build();
        var target = profile.Session.Target with { CommandLine = HostileCommandLine, ProcessName = HostileProcess, Host = "<h1>host</h1>" };
        return new Profile
        {
            Session = profile.Session with { Target = target, EndReason = SessionEndReason.Failed, EndMessage = "<i>boom</i>" },
            Frames = profile.Frames, Stacks = profile.Stacks, Threads = profile.Threads, Snapshots = profile.Snapshots, Samples = profile.Samples,
        };
    }

    /// <summary>
    /// The page without the embedded data and the report's script, i.e. where HTML escaping applies. In the data
    /// block the names are JSON strings (checked separately: no '&lt;', '&gt;' or '&amp;' at all), so "onerror=" there
    /// is inert text; the script is our own file.
    /// </summary>
    static string Markup(string html) => html.Replace(ProfileData(html), "").Replace(Script(html), "");

    static string Script(string html) => Regex.Match(html, "<script>(.*?)</script>", RegexOptions.Singleline).Groups[1].Value;

    [Fact]
    public void Hostile_target_strings_never_appear_unescaped()
    {
        var full = Html(Hostile());
        var html = Markup(full);

        foreach (var raw in new[] { HostileType, HostileMethod, HostileThread, HostileCommandLine, HostileProcess, "<b>evil</b>", "<h1>host</h1>", "<i>boom</i>", "<!--<script>", "alert(1)</script>" })
            Assert.DoesNotContain(raw, html);
        Assert.Contains("&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;", html);
        Assert.Contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("&quot;&#x27;&amp;&lt;&gt; (tid 1001)", html);
        Assert.Contains("&lt;svg onload&#x3D;alert(2)&gt; (pid 4242)", html);
        Assert.Contains("&lt;i&gt;boom&lt;/i&gt;", html);
        Assert.DoesNotContain("onerror=", html);
        Assert.DoesNotContain("onload=", html);
        foreach (var raw in new[] { HostileType, HostileMethod, HostileThread, HostileProcess, "<b>evil</b>" })
            Assert.DoesNotContain(raw, full);
    }

    [Fact]
    public void Only_the_templates_own_script_elements_are_closed()
    {
        var html = Html(Hostile());

        var closings = Regex.Matches(html, "</script", RegexOptions.IgnoreCase).Select(m => m.Index).ToList();
        Assert.Equal(2, closings.Count);
        Assert.Equal(2, Regex.Matches(html, "<script", RegexOptions.IgnoreCase).Count);
        // The data block and the script end exactly where the template ends them, after which only </body></html> follows.
        Assert.Equal("</script>\n</body>\n</html>\n", html[closings[1]..].Replace("\r\n", "\n"));
        Assert.StartsWith("</script>\n<script>", html[closings[0]..].Replace("\r\n", "\n"));
    }

    [Fact]
    public void Embedded_data_escapes_markup_and_round_trips_the_names()
    {
        var html = Html(Hostile());
        var json = ProfileData(html);

        Assert.DoesNotContain('<', json);
        Assert.DoesNotContain('>', json);
        Assert.DoesNotContain('&', json);
        using var data = JsonDocument.Parse(json);
        var names = data.RootElement.GetProperty("names").EnumerateArray().Select(n => n.GetString()).ToList();
        Assert.Contains(HostileType + "." + HostileMethod, names);
        Assert.Contains(HostileThread + " (tid 1001)", names);
        Assert.Contains("--><!--<script>", names);
        var (snapshots, samplesPerThread) = Unpack(data.RootElement.GetProperty("packed").GetString()!);
        Assert.Equal(8, snapshots);
        Assert.Equal([8], samplesPerThread);
        var stacks = data.RootElement.GetProperty("stacks");
        Assert.Equal(stacks.GetProperty("parent").GetArrayLength(), stacks.GetProperty("method").GetArrayLength());
    }

    [Fact]
    public void Report_references_nothing_outside_itself()
    {
        var full = Html(Hostile());
        var html = Markup(full);
        // Layer names such as "http-client" are data; what must never be there is a URL.
        Assert.DoesNotMatch("(?i)https?:|//", ProfileData(full));
        Assert.DoesNotContain("http", Script(full));

        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("//cdn", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<iframe", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("fetch(", html);
        Assert.DoesNotContain("XMLHttpRequest", html);
        foreach (Match attribute in ResourceAttribute().Matches(html))
            Assert.StartsWith("#", attribute.Groups["value"].Value);
        Assert.NotEmpty(ResourceAttribute().Matches(html)); // the in-page navigation is there, and is matched
    }

    [Fact]
    public void Content_security_policy_allows_exactly_the_inline_script()
    {
        var html = Html(SampleProfiles.Demo());

        var policy = Regex.Match(html, "http-equiv=\"Content-Security-Policy\" content=\"([^\"]*)\"").Groups[1].Value;
        Assert.Contains("default-src 'none'", policy);
        var hash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Script(html))));
        Assert.Contains($"script-src 'sha256-{hash}'", policy);
    }

    [Fact]
    public void Header_threads_and_no_script_table_are_server_rendered()
    {
        var html = Html(SampleProfiles.Demo());

        Assert.Contains("DemoApp (pid 4242)", html);
        Assert.Contains("dotnet DemoApp.dll --port 8080", html);
        Assert.Contains("p50 0.84 ms, p99 2.10 ms, max 4.99 ms", html);
        Assert.Contains("2025-01-31 14:05:09 UTC", html);
        Assert.Contains("12.5 s", html);
        Assert.Contains("100 Hz requested, 99.3 Hz achieved", html);
        Assert.Contains("snapshot count reached", html);
        Assert.Contains("<td class=\"name own\">Parser.Parse</td>", html);
        Assert.Contains("<td class=\"num\">40.0%</td>", html);
        Assert.Contains("<td class=\"thread-name\">Main (tid 1001)</td>", html);
        Assert.Contains("<td class=\"thread-name\">Finalizer (tid 1003) <span class=\"role\">finalizer</span></td>", html);
        // Main: 55 of 60 samples on CPU, 535 ms of CPU time.
        Assert.Contains("<td class=\"num state st-cpu\" title=\"cpu: 55 samples\">91.7%</td>", html);
        Assert.Contains("data-cpu-ns=\"535000000\">535 ms</td>", html);
    }

    [Fact]
    public void Snapper_errors_show_in_the_header_and_the_json_apart_from_failed_snapshots()
    {
        var demo = SampleProfiles.Demo();
        var profile = new Profile
        {
            Session = demo.Session with { InternalErrors = [new InternalError("NullReferenceException in FrameResolver.Resolve: <b>x</b>", 3), new InternalError("InvalidCastException: y", 1)] },
            Frames = demo.Frames, Stacks = demo.Stacks, Threads = demo.Threads, Snapshots = demo.Snapshots, Samples = demo.Samples,
        };

        var html = Html(profile);
        Assert.Contains("Snapper errors", html);
        Assert.Contains("4 snapshots lost to Snapper errors (a bug: please report it): 3 x NullReferenceException in FrameResolver.Resolve: &lt;b&gt;x&lt;/b&gt;; 1 x InvalidCastException: y", html);
        var output = new StringWriter();
        JsonReportWriter.Write(profile, output);
        using var json = JsonDocument.Parse(output.ToString());
        var session = json.RootElement.GetProperty("session");
        Assert.Equal(1, session.GetProperty("failedSnapshots").GetInt32());
        Assert.Equal([("NullReferenceException in FrameResolver.Resolve: <b>x</b>", 3), ("InvalidCastException: y", 1)],
            session.GetProperty("internalErrors").EnumerateArray().Select(e => (e.GetProperty("reason").GetString(), e.GetProperty("count").GetInt32())));
        Assert.DoesNotContain("Snapper errors", Html(demo)); // a capture without any says nothing of them
    }

    [Fact]
    public void The_idle_choice_is_carried_to_the_page()
    {
        Assert.DoesNotContain("id=\"idle\" checked", Html(SampleProfiles.Demo()));
        var output = new StringWriter();
        HtmlReportWriter.Write(SampleProfiles.Demo(), output, new ReportOptions { IncludeIdle = true });
        Assert.Contains("id=\"idle\" checked", output.ToString());
        Assert.Contains("\"includeIdle\":true", ProfileData(output.ToString()));
    }

    [Fact]
    public void A_thread_selection_leaves_other_threads_out_of_the_page()
    {
        var output = new StringWriter();
        HtmlReportWriter.Write(SampleProfiles.Demo(), output, new ReportOptions { Threads = ThreadSelection.TryParse("^Fin", out _) });
        var html = output.ToString();
        Assert.Contains("Finalizer (tid 1003)", html);
        Assert.DoesNotContain("Main (tid 1001)", html);
        Assert.Contains("matching /^Fin/", html);
    }

    [Fact]
    public void Empty_profile_renders()
    {
        var html = Html(new ProfileBuilder().Build(SessionEndReason.Running, ended: false));

        Assert.Contains("No frames were sampled.", html);
        Assert.Contains("(not ended)", html);
    }

    /// <summary>Writes the service-like sample where SNAPPER_SAMPLE_REPORT says, to look at in a browser.</summary>
    [Fact]
    public void Sample_report_can_be_written_for_inspection()
    {
        var html = Html(SampleProfiles.Service());
        if (Environment.GetEnvironmentVariable("SNAPPER_SAMPLE_REPORT") is { Length: > 0 } path)
            File.WriteAllText(path, html);
        Assert.StartsWith("<!DOCTYPE html>", html);
    }

    /// <summary>Reads the packed samples as the page does (base64, gzip, LEB128): snapshot count and samples per thread.</summary>
    static (long Snapshots, List<long> SamplesPerThread) Unpack(string packed)
    {
        using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(Convert.FromBase64String(packed)), System.IO.Compression.CompressionMode.Decompress);
        var bytes = new MemoryStream();
        gzip.CopyTo(bytes);
        var buffer = bytes.ToArray();
        var at = 0;
        long Next()
        {
            long value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = buffer[at++];
                value |= (long)(b & 0x7f) << shift;
                if (b < 0x80) return value;
            }
        }
        var snapshots = Next();
        for (var i = 0; i < snapshots; i++) Next();
        var perThread = new List<long>();
        for (var t = Next(); t > 0; t--)
        {
            var count = Next();
            perThread.Add(count);
            for (var j = 0; j < 6 * count; j++) Next(); // snapshot step, stack node, state, CPU, layer, wall
        }
        Assert.Equal(buffer.Length, at); // nothing left over
        return (snapshots, perThread);
    }

    internal static string ProfileData(string html) =>
        Regex.Match(html, "<script type=\"application/json\" id=\"profile-data\">(.*?)</script>", RegexOptions.Singleline).Groups[1].Value;

    [GeneratedRegex("""\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?(?<value>[^"'\s>]*)""", RegexOptions.IgnoreCase)]
    private static partial Regex ResourceAttribute();
}
