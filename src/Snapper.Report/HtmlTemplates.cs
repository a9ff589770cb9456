using System.Security.Cryptography;
using System.Text;
using HandlebarsDotNet;

namespace Snapper.Report;

/// <summary>
/// A page's template, style and script, embedded in the assembly and compiled once per process (Handlebars
/// compilation costs far more than rendering). The report and the diff page share the style sheet.
/// </summary>
sealed class HtmlTemplates
{
    public static readonly HtmlTemplates Report = new("report.hbs", "report.js", "report.css");
    public static readonly HtmlTemplates Diff = new("diff.hbs", "diff.js", "report.css", "diff.css");

    readonly Lazy<HandlebarsTemplate<TextWriter, object, object>> _compiled;

    HtmlTemplates(string template, string script, params string[] styles)
    {
        Css = Guard(string.Concat(styles.Select(Read)), "</style");
        Script = Guard(Read(script), "</script");
        // Base64 SHA-256 of the script: the page's Content-Security-Policy allows that script and no other.
        ScriptHash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Script)));
        _compiled = new(() =>
        {
            // The default encoder HTML-escapes &, <, >, ", ', ` and = in every {{ }}; only our own CSS, script and the
            // pre-escaped JSON go through {{{ }}}.
            using var reader = new StringReader(Read(template));
            return Handlebars.Create().Compile(reader);
        });
    }

    public string Css { get; }
    public string Script { get; }
    public string ScriptHash { get; }

    public void Render(TextWriter output, object model) => _compiled.Value(output, model, null!);

    static string Read(string name)
    {
        var resource = "Snapper.Report.Templates." + name;
        using var stream = typeof(HtmlTemplates).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded resource {resource} is missing from the build");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Our own files are inserted raw, so they must not end the element they are inserted into either.</summary>
    static string Guard(string content, string closing) =>
        content.Contains(closing, StringComparison.OrdinalIgnoreCase)
            ? throw new InvalidOperationException($"embedded {closing}> would break the page")
            : content;
}
