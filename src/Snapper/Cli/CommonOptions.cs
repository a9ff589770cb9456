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
}
