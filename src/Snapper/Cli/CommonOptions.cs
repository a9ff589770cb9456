using System.CommandLine;
using Snapper.Report;
using Snapper.Store;

namespace Snapper.Cli;

/// <summary>Options several commands share, so they read and behave the same everywhere.</summary>
public static class CommonOptions
{
    public const string DefaultDatabase = "snapper.db";

    /// <param name="creates">Whether the command creates the store when it is missing (only captures do).</param>
    public static Option<string> Database(bool creates = false) => new("--db")
    {
        Description = creates ? "The SQLite store (created if missing). Many sessions share one file." : "The SQLite store (it must exist; 'snapper sample' creates it).",
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

    public static Option<ThreadSelection?> Threads(string description) => new("--threads")
    {
        Description = description + " A .NET regular expression matched against each thread's managed name, OS name and runtime role "
            + "(e.g. 'Worker', '^Order', 'thread pool'); prefix (?i) to ignore case.",
        HelpName = "regex",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (ThreadSelection.TryParse(text, out var error) is { } selection) return selection;
            result.AddError($"--threads '{text}' is not a valid regular expression: {error}");
            return null;
        },
    };

    public static Option<bool> Idle() => new("--idle")
    {
        Description = "Show the samples of idle thread-pool threads (workers parked waiting for work, the timer, gate and "
            + "socket-engine threads) in the report. They are always stored; by default the report leaves them out of the "
            + "flame graph, call tree and functions, and counts them in the threads table.",
    };

    /// <summary>
    /// --native: off by default because it costs sampler time on every thread stopped in native code (measured in
    /// the README's benchmark), and most questions are answered by the managed stack and its transition frame.
    /// </summary>
    public static Option<bool> NativeFrames() => new("--native")
    {
        Description = "Also unwind the native frames above the managed stack of a thread stopped in native code (libc, the runtime), " +
            "named from the libraries' symbols: libc.so.6!pthread_cond_wait, or libcoreclr.so+0x1234 where stripped. " +
            "Off by default: it adds work to every sample (see the README's benchmark). A library that cannot be unwound " +
            "keeps the frames shown without it.",
    };

    public static Option<bool> ShowSecrets() => new("--show-secrets")
    {
        Description = "Show the target's command line as it is. By default the values of options named like a password, "
            + "token, secret, API key or connection string are replaced by ***.",
    };

    public static ReportOptions ReportOptions(ParseResult result, Option<ThreadSelection?> threads, Option<bool> idle, Option<bool> showSecrets) =>
        new() { Threads = result.GetValue(threads), IncludeIdle = result.GetValue(idle), ShowSecrets = result.GetValue(showSecrets) };

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
