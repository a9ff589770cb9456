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
        Description = "Show idle samples in the report: idle thread-pool threads (workers parked waiting for work, the timer, gate and "
            + "socket-engine threads) and the 'idle' layer (service loops waiting for their next event, such as a main thread in host.Run()). "
            + "They are always stored; by default the report leaves them out of the flame graph, call tree, functions and layers, "
            + "and counts them in the threads table.",
    };

    /// <summary>
    /// --native: off by default because it costs sampler time on every thread stopped in native code (measured in
    /// docs/benchmarks.md), and most questions are answered by the managed stack and its transition frame.
    /// </summary>
    public static Option<bool> NativeFrames() => new("--native")
    {
        Description = "Also unwind the native frames above the managed stack of a thread stopped in native code (libc, the runtime), " +
            "named from the libraries' symbols: libc.so.6!pthread_cond_wait, or libcoreclr.so+0x1234 where stripped. " +
            "Off by default: it adds work to every sample (see docs/native-frames.md). A library that cannot be unwound " +
            "keeps the frames shown without it.",
    };

    public static Option<bool> ShowSecrets() => new("--show-secrets")
    {
        Description = "Show the target's command line as it is. By default the values of options named like a password, "
            + "token, secret, API key or connection string are replaced by ***.",
    };

    /// <summary>How layers are decided, for --help: the same text everywhere layers are mentioned.</summary>
    public const string LayersHelp = """
        Layers: each sample is attributed to one layer: sql, http-client, serialization, views, aspnet, app (your
        code), locks (locks and waits), runtime (GC and runtime), idle (parked threads, service loops waiting),
        between-samples (CPU only: what a thread sleeping, in I/O or idle at a snapshot used since the one before).
        Decided in three steps, first answer wins:
          1. sample rules: idle thread-pool samples are 'idle'; samples of the GC, finalizer and JIT threads 'runtime'.
          2. frame rules: the stack is walked from the innermost frame outward; the first frame some rule matches
             decides, rules tried in order. Frames no rule matches (List.Sort, LINQ, a native leaf) are passed over,
             so the base-library code a layer calls counts for that layer: List.Sort called from your code is 'app',
             SQL called from a controller is 'sql'. Lock and wait frames (Monitor, SemaphoreSlim, Task.Wait,
             Thread.Sleep) are 'locks' unless the nearest frame further out that another layer claims is sql,
             http-client, serialization, views or idle: a wait inside HttpClient or a connection pool is that
             layer's time. 'app' is managed code outside the framework prefixes (System., Microsoft., Npgsql,
             Newtonsoft., ...): the target's own assemblies.
          3. fallback rules: blocked (lock/wait, sleep) samples are 'locks', everything else 'runtime'.
        --layers <file> adds your rules (JSON, the shape of the built-in file; see docs/layers.md); they are
        tried before the built-in rules of the same step. Idle samples are left out unless --idle.
        """;

    public static Option<string?> LayersFile() => new("--layers")
    {
        Description = "A JSON file of layer rules tried before the built-in ones (see 'Layers' above and docs/layers.md). "
            + "A file that cannot be read or is not valid fails with exit code 12.",
        HelpName = "rules.json",
    };

    public static Option<FocusPattern?> Focus(string description) => new("--focus")
    {
        Description = description + " A .NET regular expression matched against each frame's Type.Method name "
            + "(e.g. 'OrdersController.Checkout', 'Endpoints.Search', '(?i)checkout'); a sample is kept when any frame of its stack matches. "
            + "An async method's frame matches by the name it was written with (Orders+<Checkout>d__5.MoveNext as Orders.Checkout).",
        HelpName = "regex",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (FocusPattern.TryParse(text, out var error) is { } focus) return focus;
            result.AddError($"--focus '{text}' is not a valid regular expression: {error}");
            return null;
        },
    };

    public static Option<string?> LayerFilter(string what) => new("--layer")
    {
        Description = what + " only the samples in these layers, names separated by commas (e.g. 'sql', 'app,serialization'); "
            + "the layers are sql, http-client, serialization, views, aspnet, app, locks, runtime, idle and any your --layers file adds.",
        HelpName = "names",
    };

    /// <summary>The built-in layer rules, with the user's file first when --layers names one.</summary>
    public static LayerRules LoadLayerRules(string? file)
    {
        try
        {
            return file is null ? LayerRules.Default : LayerRules.Load(file);
        }
        catch (LayerRulesException e)
        {
            throw new SnapperException(ExitCode.BadLayerRules, e.Message);
        }
    }

    /// <summary>"sql,app" checked against the layers the rules name; null for every layer.</summary>
    public static IReadOnlySet<string>? ParseLayerFilter(string? text, LayerRules rules)
    {
        if (text is null) return null;
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw new SnapperException(ExitCode.InvalidArguments, "--layer needs at least one layer name (e.g. --layer sql,app)");
        foreach (var name in names)
            if (!rules.Layers.Contains(name, StringComparer.Ordinal))
                throw new SnapperException(ExitCode.InvalidArguments, $"--layer: no layer named '{name}'; the layers are {string.Join(", ", rules.Layers)}");
        return names.ToHashSet(StringComparer.Ordinal);
    }

    public static ReportOptions ReportOptions(ParseResult result, Option<ThreadSelection?> threads, Option<bool> idle, Option<bool> showSecrets) =>
        new() { Threads = result.GetValue(threads), IncludeIdle = result.GetValue(idle), ShowSecrets = result.GetValue(showSecrets) };

    /// <summary>An option whose values are an enum's names in lower case, with a one-line error listing them.</summary>
    public static Option<T> Choice<T>(string name, string description, T defaultValue, params string[] aliases) where T : struct, Enum
    {
        // Help would print a default by the enum member's name ("Html"), which is not what a user types ("html"): the
        // default is said in the description instead, and is what GetValue gives for an option not given, T's zero member.
        if (!EqualityComparer<T>.Default.Equals(defaultValue, default))
            throw new ArgumentException($"{name}: a choice's default must be the first member of {typeof(T).Name}", nameof(defaultValue));
        return ChoiceOf<T>(name, $"{description} [default: {defaultValue.ToString().ToLowerInvariant()}]", aliases);
    }

    /// <summary>A choice the user must make (no default).</summary>
    public static Option<T> RequiredChoice<T>(string name, string description, params string[] aliases) where T : struct, Enum
    {
        var option = ChoiceOf<T>(name, description, aliases);
        option.Required = true;
        return option;
    }

    static Option<T> ChoiceOf<T>(string name, string description, string[] aliases) where T : struct, Enum
    {
        var names = Enum.GetNames<T>().Select(n => n.ToLowerInvariant()).ToArray();
        return new Option<T>(name, aliases)
        {
            Description = description,
            HelpName = string.Join('|', names),
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (Enum.TryParse<T>(text, ignoreCase: true, out var value) && names.Contains(text.ToLowerInvariant())) return value;
                result.AddError($"{name} must be one of {string.Join(", ", names)}, not '{text}'");
                return default;
            },
        };
    }
}
