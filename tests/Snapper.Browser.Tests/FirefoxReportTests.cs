using Snapper.Report;
using Snapper.Report.Tests;

namespace Snapper.Browser.Tests;

/// <summary>The report works in Firefox too: it decodes its data, draws every view and follows the view controls.</summary>
[Collection(FirefoxCollection.Name)]
public sealed class FirefoxReportTests(Firefox firefox)
{
    [SkippableFact]
    public async Task The_report_renders_and_follows_the_view_in_firefox()
    {
        firefox.Require();
        var directory = Directory.CreateTempSubdirectory("snapper-firefox-report-").FullName;
        try
        {
            var path = Path.Combine(directory, "report.html");
            using (var file = new StreamWriter(path))
                HtmlReportWriter.Write(SampleProfiles.Demo(), file);
            await firefox.NavigateAsync(new Uri(path).AbsoluteUri);

            // The data is decoded asynchronously: wait for the page to say it is ready.
            var ready = await firefox.EvaluateAsync("""
                new Promise(done => { const check = () => document.documentElement.hasAttribute('data-ready') ? done(true) : setTimeout(check, 50); check(); })
                """);
            Assert.True(ready!.GetValue<bool>());
            Assert.StartsWith("Showing 100 samples from 3 threads", (await firefox.EvaluateAsync("document.getElementById('view-status').textContent"))!.GetValue<string>());
            Assert.True((await firefox.EvaluateAsync("document.getElementById('flame-canvas').height"))!.GetValue<int>() > 0);
            Assert.True((await firefox.EvaluateAsync("document.querySelectorAll('#tree-box .row').length"))!.GetValue<int>() > 5);

            await firefox.EvaluateAsync("document.querySelector('input[name=states][value=cpu]').click()");
            Assert.StartsWith("Showing 55 samples from 1 thread", (await firefox.EvaluateAsync("document.getElementById('view-status').textContent"))!.GetValue<string>());
            Assert.Empty(firefox.Errors);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
