using System.Text.Json;
using System.Text.RegularExpressions;
using Snapper.Store;

namespace Snapper.Report.Tests;

/// <summary>
/// Thread states are described once (SampleStates: name, short name, colour); the HTML page's CSS and script take them
/// from the page it is written into, the text report and the layer rules from SampleStates itself. A state added or
/// recoloured in one place only shows here (issue 23: they were defined in seven places and nothing caught a miss).
/// </summary>
public sealed class SampleStatesTests
{
    [Fact]
    public void The_page_styles_and_colours_every_state_from_its_one_description()
    {
        var html = HtmlReportTests.Html(SampleProfiles.Demo());

        foreach (var state in SampleStates.All.Where(s => s != SampleState.Unknown))
            Assert.Contains($"th.st-{state.ShortName()}, td.st-{state.ShortName()} {{ box-shadow: inset 0 -3px 0 {state.Colour()}; }}", html);
        var data = Regex.Match(html, "<script[^>]*id=\"profile-data\"[^>]*>(.*?)</script>", RegexOptions.Singleline);
        Assert.True(data.Success, "no profile data in the page");
        using var json = JsonDocument.Parse(data.Groups[1].Value);
        var states = json.RootElement.GetProperty("states");
        Assert.Equal((int)SampleState.Cpu, states.GetProperty("cpu").GetInt32());
        Assert.Equal((int)SampleState.IdleThreadPool, states.GetProperty("idle").GetInt32());
        var colours = states.GetProperty("colour").EnumerateArray().Select(c => c.GetString()).ToList();
        foreach (var state in SampleStates.All) Assert.Equal(state.Colour(), colours[(int)state]);
    }

    [Fact]
    public void The_page_templates_define_no_state_of_their_own()
    {
        // The page shares its palette with the states (a border is the idle grey, a highlight the io blue), so colours as
        // such are not looked for: the state classes, and the script's state numbers and colour list are.
        foreach (var state in SampleStates.All)
            Assert.DoesNotContain($".st-{state.ShortName()}", HtmlTemplates.Report.Css + HtmlTemplates.Report.Script);
        Assert.DoesNotMatch(@"STATE_\w+\s*=\s*\d", HtmlTemplates.Report.Script);
        Assert.DoesNotMatch(@"STATE_COLOUR\s*=\s*\[", HtmlTemplates.Report.Script);
    }

    [Fact]
    public void Every_state_the_built_in_layer_rules_name_is_a_state()
    {
        using var stream = typeof(HtmlTemplates).Assembly.GetManifestResourceStream("Snapper.Report.Layers.default-layers.json")!;
        using var rules = JsonDocument.Parse(stream);
        var named = new List<string>();
        void Collect(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "states") named.AddRange(property.Value.EnumerateArray().Select(s => s.GetString()!));
                    else Collect(property.Value);
                }
            else if (element.ValueKind == JsonValueKind.Array)
                foreach (var item in element.EnumerateArray()) Collect(item);
        }
        Collect(rules.RootElement);

        Assert.NotEmpty(named);
        Assert.All(named, name => Assert.Contains(name, SampleStates.All.Select(s => s.Name())));
    }
}
