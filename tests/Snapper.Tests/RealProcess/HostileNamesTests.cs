using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>Names read from the target are data, never markup: a type and a thread named like an injection stay text.</summary>
public sealed class HostileNamesTests
{
    [Fact]
    public void A_type_named_like_an_html_injection_renders_escaped()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("hostile");
        var report = dir.File("r.html");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "10", "--db", dir.File("s.db"), "--report", report);

        Assert.True(result.ExitCode == 0, result.ToString());
        var stored = ProfileQueries.LoadLatest(dir.File("s.db"));
        Assert.Contains(stored.Frames.Values, f => f.TypeName == "<img src=x onerror=alert(1)>" && f.MethodName == "</script><b>Run</b>");
        var html = File.ReadAllText(report);
        Assert.DoesNotContain("<img src=x", html);
        Assert.DoesNotContain("<b>Run</b>", html);
        Assert.DoesNotContain("<script>alert(", html);
        Assert.Contains("&lt;img src", html); // Handlebars also escapes '=' (as &#x3D;)
        // The only closing script tags are the report's own (its data block and its code).
        Assert.True(html.Split("</script>").Length - 1 <= 2, "a name closed a script element");
    }
}
