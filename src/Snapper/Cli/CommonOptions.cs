using System.CommandLine;

namespace Snapper.Cli;

/// <summary>Options several commands share, so they read and behave the same everywhere.</summary>
public static class CommonOptions
{
    public const string DefaultDatabase = "snapper.db";

    public static Option<string> Database() => new("--db")
    {
        Description = "The SQLite store (created if missing). Many sessions share one file.",
        DefaultValueFactory = _ => DefaultDatabase,
        HelpName = "path",
    };

    public static Option<TimeSpan?> Duration(string name, string description) => new(name)
    {
        Description = description + " Written as " + DurationParser.Help + ".",
        HelpName = "duration",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (DurationParser.TryParse(text, out var value)) return value;
            result.AddError($"{name} '{text}' is not a duration: use {DurationParser.Help}");
            return null;
        },
    };

    /// <summary>An option whose values are an enum's names in lower case, with a one-line error listing them.</summary>
    public static Option<T> Choice<T>(string name, string description, T defaultValue, params string[] aliases) where T : struct, Enum
    {
        var names = Enum.GetNames<T>().Select(n => n.ToLowerInvariant()).ToArray();
        return new Option<T>(name, aliases)
        {
            Description = description,
            HelpName = string.Join('|', names),
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (Enum.TryParse<T>(text, ignoreCase: true, out var value) && names.Contains(text.ToLowerInvariant())) return value;
                result.AddError($"{name} must be one of {string.Join(", ", names)}, not '{text}'");
                return defaultValue;
            },
        };
    }
}
