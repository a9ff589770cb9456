using System.Security.Cryptography;
using System.Text;
using HandlebarsDotNet;

namespace Snapper.Report;

/// <summary>
/// The HTML report's template, style and script, embedded in the assembly and compiled once per process
/// (Handlebars compilation costs far more than rendering).
/// </summary>
static class HtmlTemplates
{
    static readonly Lazy<HandlebarsTemplate<TextWriter, object, object>> Compiled = new(Compile);

    public static string Css { get; } = Guard(Read("report.css"), "</style");

    public static string Script { get; } = Guard(Read("report.js"), "</script");

    /// <summary>Base64 SHA-256 of <see cref="Script"/>: the page's Content-Security-Policy allows that script and no other.</summary>
    public static string ScriptHash { get; } = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Script)));

    public static void Render(TextWriter output, object model) => Compiled.Value(output, model, null!);

    static HandlebarsTemplate<TextWriter, object, object> Compile()
    {
        // The default encoder HTML-escapes &, <, >, ", ', ` and = in every {{ }}; only our own CSS, script and the
        // pre-escaped JSON go through {{{ }}}.
        var handlebars = Handlebars.Create();
        using var reader = new StringReader(Read("report.hbs"));
        return handlebars.Compile(reader);
    }

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
            ? throw new InvalidOperationException($"embedded {closing}> would break the report")
            : content;
}
