using System.Text.RegularExpressions;

namespace Snapper.Report;

/// <summary>
/// Hides secrets in a target's command line before a report shows it: reports get mailed and attached to tickets,
/// and services are often started with a password or token on the command line. The value after any option or
/// setting whose name says it is secret (password, pwd, secret, token, api key, access key, credential, auth,
/// connection string) becomes <c>***</c>, in the forms <c>--name value</c>, <c>--name=value</c>, <c>name=value</c>
/// and <c>Name=value;</c> inside a connection string.
/// </summary>
public static partial class CommandLineRedactor
{
    public const string Mask = "***";

    public static string Redact(string commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        var redacted = Assignment().Replace(commandLine, m => m.Groups["name"].Value + m.Groups["sep"].Value + Mask);
        return SeparateValue().Replace(redacted, m => m.Groups["name"].Value + m.Groups["space"].Value + Mask);
    }

    // name=value or name:value, up to a space, ';' or '&' (connection strings, URLs' query strings).
    [GeneratedRegex(@"(?<name>[\w.-]*(?:pass(?:word|wd)?|pwd|secret|token|api[-_.]?key|access[-_.]?key|credential|auth\w*|connection[-_.]?string)[\w.-]*)(?<sep>\s*[=:]\s*)(?<value>""[^""]*""|'[^']*'|[^\s;&]+)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Assignment();

    // --name value / -name value: the next argument is the secret.
    [GeneratedRegex(@"(?<name>(?:^|\s)--?[\w.-]*(?:pass(?:word|wd)?|pwd|secret|token|api[-_.]?key|access[-_.]?key|credential|auth\w*|connection[-_.]?string)[\w.-]*)(?<space>\s+)(?<value>""[^""]*""|'[^']*'|(?!-)[^\s]+)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex SeparateValue();
}
