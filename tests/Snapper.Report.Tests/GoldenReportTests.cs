using System.Text.Json;
using Snapper.Store;

namespace Snapper.Report.Tests;

/// <summary>The text and JSON reports are compared byte for byte with Golden/ (SNAPPER_UPDATE_GOLDEN=1 regenerates).</summary>
public sealed class GoldenReportTests
{
    internal static string Text(Profile profile, int top = 20)
    {
        var output = new StringWriter();
        TextReportWriter.Write(profile, output, null, top);
        return output.ToString();
    }

    internal static string Json(Profile profile)
    {
        var output = new StringWriter();
        JsonReportWriter.Write(profile, output);
        return output.ToString();
    }

    [Fact]
    public void Text_report_matches_golden() => Golden.AssertMatches("demo.txt", Text(SampleProfiles.Demo()));

    [Fact]
    public void Json_report_matches_golden() => Golden.AssertMatches("demo.json", Json(SampleProfiles.Demo()));

    [Fact]
    public void Text_report_of_a_running_session_without_samples_matches_golden() =>
        Golden.AssertMatches("empty-running.txt", Text(new ProfileBuilder().Build(SessionEndReason.Running, ended: false)));

    [Fact]
    public void Json_report_of_a_failed_session_matches_golden()
    {
        var b = new ProfileBuilder();
        b.Sample(b.Thread(1, "Main"), b.Stack(ProfileBuilder.Managed("Program", "Main")), 3);
        Golden.AssertMatches("failed.json", Json(b.Build(SessionEndReason.Failed, "target stopped responding")));
    }

    [Fact]
    public void Json_stream_and_text_writer_overloads_agree()
    {
        using var stream = new MemoryStream();
        JsonReportWriter.Write(SampleProfiles.Demo(), stream);
        Assert.Equal(Json(SampleProfiles.Demo()), System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    [Fact]
    public void Json_call_tree_is_flat_pre_order_with_parents_and_respects_the_threshold()
    {
        var output = new StringWriter();
        JsonReportWriter.Write(SampleProfiles.Demo(), output, top: 2, treeMinPercent: 15);
        using var json = JsonDocument.Parse(output.ToString());
        var tree = json.RootElement.GetProperty("callTree").EnumerateArray().ToList();

        Assert.Equal("root", tree[0].GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, tree[0].GetProperty("parent").ValueKind);
        for (var i = 1; i < tree.Count; i++)
        {
            var parent = tree[i].GetProperty("parent").GetInt32();
            Assert.InRange(parent, 0, i - 1);
            Assert.Equal(tree[parent].GetProperty("depth").GetInt32() + 1, tree[i].GetProperty("depth").GetInt32());
            // At least 15% of the samples, or of the CPU time.
            Assert.True(tree[i].GetProperty("total").GetInt64() >= 15 || tree[i].GetProperty("totalCpuNs").GetInt64() >= 0.15 * 536_000_000);
        }
        // Top 2 by self, top 2 by total and top 2 by self CPU, united.
        Assert.Equal(["Parser.Parse", "__libc_read", "System.Collections.Generic.List`1.Sort", "Server.Run", "Program.Main"],
            json.RootElement.GetProperty("topFunctions").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
    }

    [Fact]
    public void Json_report_round_trips_any_name()
    {
        const string type = "<Program>g__Local|0_0</script>", method = "\"'&\u2028\u0001é";
        var b = new ProfileBuilder();
        b.Sample(b.Thread(1, "a\"b\\c"), b.Stack(ProfileBuilder.Managed(type, method, module: "List`1&.dll")));
        using var json = JsonDocument.Parse(Json(b.Build()));

        var function = json.RootElement.GetProperty("topFunctions")[0];
        Assert.Equal(type, function.GetProperty("typeName").GetString());
        Assert.Equal(method, function.GetProperty("methodName").GetString());
        Assert.Equal("List`1&.dll", function.GetProperty("module").GetString());
        Assert.Equal("a\"b\\c", json.RootElement.GetProperty("threads")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void Text_report_replaces_control_characters_from_the_target()
    {
        var b = new ProfileBuilder();
        b.Sample(b.Thread(1, "evil\u001b[2J\nthread"), b.Stack(ProfileBuilder.Managed("Evil\u001b]0;pwned\u0007", "M\r\nFake line")));
        var text = Text(b.Build());

        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\r', text);
        Assert.DoesNotContain('\u0007', text);
        Assert.Contains("evil?[2J?thread", text);
        Assert.Contains("M??Fake line", text);
    }
}
