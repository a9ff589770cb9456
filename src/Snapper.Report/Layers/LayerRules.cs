using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>A layer rules file that cannot be used; the message is one line naming the file and what is wrong.</summary>
public sealed class LayerRulesException(string message) : Exception(message);

/// <summary>
/// Attributes each sample to one layer (sql, http-client, serialization, views, aspnet, app, locks, runtime, idle) by
/// an ordered rule set: the built-in rules (<c>Layers/default-layers.json</c>, embedded) with a user's file, whose rules
/// are tried before the built-in ones of the same kind. A sample's layer is decided in three steps:
/// <list type="number">
/// <item><b>sample</b> rules, in order: the first whose <c>states</c> (sample states) and <c>threads</c> (thread roles)
/// both hold decides (a missing condition holds).</item>
/// <item><b>frames</b> rules: the stack is walked from the innermost frame outward; at each frame the rules are tried in
/// order, and the first rule that matches the frame decides. A frame no rule matches (System.Linq, List.Sort, a native
/// leaf...) is passed over, so the base-library code a layer calls counts for that layer, and the innermost layer
/// wins: SQL called from your controller is "sql". A rule with <c>deferTo</c> gives way when the nearest frame further
/// out that a rule of another layer claims belongs to one of those layers: the built-in "locks" rule defers to sql,
/// http-client, serialization, views and idle, so a wait inside HttpClient (its socket read) or a provider's pool
/// semaphore is that layer's time, while a lock your own code takes is "locks".</item>
/// <item><b>fallback</b> rules, in order, like sample rules; the built-in list ends with a rule for every sample.</item>
/// </list>
/// A frame rule with <c>states</c> only applies to samples in those states.
/// A frame rule matches a frame when one of its <c>match</c> globs matches the frame's <c>Type.Method</c> name (for
/// native and transition frames the name reports show), or one of its <c>modules</c> globs matches its module file
/// name, or it has <c>"app": true</c> and the frame is managed code whose type and module are under none of the
/// <c>framework</c> prefixes (the target's own code). Globs are whole-name, case-sensitive, and <c>*</c> matches any
/// run of characters, dots included. Thread roles compare without case.
/// </summary>
public sealed class LayerRules
{
    /// <summary>The layer of a sample no rule claims (the built-in fallback makes that impossible unless a rule list is empty).</summary>
    public const string Other = "other";

    /// <summary>The layer of parked threads and service loops waiting for work: left out of reports unless asked for, like idle thread-pool samples.</summary>
    public const string Idle = "idle";

    const string DefaultResource = "Snapper.Report.Layers.default-layers.json";

    readonly List<Rule> _sampleRules;
    readonly List<Rule> _frameRules;
    readonly List<Rule> _fallbackRules;
    readonly string[] _framework;

    LayerRules(List<Rule> sample, List<Rule> frames, List<Rule> fallback, string[] framework, IReadOnlyList<string> layers,
        IReadOnlyDictionary<string, string> descriptions, string? userFile)
    {
        _sampleRules = sample;
        _frameRules = frames;
        _fallbackRules = fallback;
        _framework = framework;
        Layers = layers;
        Descriptions = descriptions;
        UserFile = userFile;
    }

    /// <summary>Every layer a rule can name, in the order reports list them: the user's new layers first, then the built-in ones, then "other".</summary>
    public IReadOnlyList<string> Layers { get; }

    /// <summary>What each layer holds, for help and legends (layers without a description are left out).</summary>
    public IReadOnlyDictionary<string, string> Descriptions { get; }

    /// <summary>The user's rules file, or null for the built-in rules alone.</summary>
    public string? UserFile { get; }

    static readonly Lazy<LayerRules> BuiltIn = new(() => Load(null));

    /// <summary>The rules that ship with Snapper.</summary>
    public static LayerRules Default => BuiltIn.Value;

    /// <summary>The built-in rules, with a user's file (tried first) when <paramref name="userFile"/> is given.</summary>
    public static LayerRules Load(string? userFile)
    {
        var builtIn = Parse(ReadResource(), "built-in layer rules");
        if (userFile is null) return Combine(null, builtIn, null);
        string text;
        try
        {
            text = File.ReadAllText(userFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new LayerRulesException($"cannot read layer rules '{userFile}': {e.Message}");
        }
        return Combine(Parse(text, $"layer rules '{userFile}'"), builtIn, userFile);
    }

    /// <summary>Parses a rules text on its own, for tests and tools: no built-in rules added.</summary>
    public static LayerRules FromJson(string json) => Combine(null, Parse(json, "layer rules"), null);

    static LayerRules Combine(RuleFile? user, RuleFile builtIn, string? userFile)
    {
        var layers = new List<string>();
        void Add(IEnumerable<Rule> rules)
        {
            foreach (var rule in rules)
                if (!layers.Contains(rule.Layer, StringComparer.Ordinal)) layers.Add(rule.Layer);
        }
        var userRules = user is null ? [] : user.Sample.Concat(user.Frames).Concat(user.Fallback).ToList();
        var builtInRules = builtIn.Sample.Concat(builtIn.Frames).Concat(builtIn.Fallback).ToList();
        // New layers a user defines come first; the built-in ones keep their order.
        Add(userRules.Where(r => !builtInRules.Any(b => b.Layer == r.Layer)));
        Add(builtInRules);
        if (!layers.Contains(Other)) layers.Add(Other);
        var descriptions = new Dictionary<string, string>(builtIn.Descriptions, StringComparer.Ordinal);
        foreach (var (layer, text) in user?.Descriptions ?? []) descriptions[layer] = text;
        return new LayerRules(
            [.. user?.Sample ?? [], .. builtIn.Sample],
            [.. user?.Frames ?? [], .. builtIn.Frames],
            [.. user?.Fallback ?? [], .. builtIn.Fallback],
            [.. user?.Framework ?? [], .. builtIn.Framework],
            layers, descriptions, userFile);
    }

    /// <summary>The layer of one sample: its stack outermost frame first, its state, and its thread's runtime role.</summary>
    public string Classify(IReadOnlyList<FrameInfo> framesOutermostFirst, SampleState state, string? role)
    {
        ArgumentNullException.ThrowIfNull(framesOutermostFirst);
        if (FirstSampleRule(_sampleRules, state, role) is { } early) return early;
        for (var i = framesOutermostFirst.Count - 1; i >= 0; i--)
        {
            if (RuleOfFrame(framesOutermostFirst[i], state) is not { } rule) continue;
            if (rule.DeferTo.Length == 0) return rule.Layer;
            // A wait inside a layer's own code (a pool's semaphore, a socket read's event) is that layer's time: the
            // nearest frame further out that another layer claims decides.
            for (var j = i - 1; j >= 0; j--)
            {
                if (RuleOfFrame(framesOutermostFirst[j], state) is not { } outer || outer.Layer == rule.Layer) continue;
                return rule.DeferTo.Contains(outer.Layer, StringComparer.Ordinal) ? outer.Layer : rule.Layer;
            }
            return rule.Layer;
        }
        return FirstSampleRule(_fallbackRules, state, role) ?? Other;
    }

    /// <summary>The layer the frame rules give one frame of a sample in this state, or null when none claims it (it is passed over).</summary>
    public string? LayerOfFrame(FrameInfo frame, SampleState state = SampleState.Cpu) => RuleOfFrame(frame, state)?.Layer;

    Rule? RuleOfFrame(FrameInfo frame, SampleState state)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var name = frame.DisplayName;
        foreach (var rule in _frameRules)
            if ((rule.States.Count == 0 || rule.States.Contains(state)) && rule.MatchesFrame(frame, name, this)) return rule;
        return null;
    }

    /// <summary>Managed code outside every framework prefix: the target's own code.</summary>
    public bool IsAppCode(FrameInfo frame)
    {
        if (frame.Kind != FrameKind.Managed || frame.TypeName.Length == 0) return false;
        foreach (var prefix in _framework)
            if (frame.TypeName.StartsWith(prefix, StringComparison.Ordinal) || frame.Module.StartsWith(prefix, StringComparison.Ordinal))
                return false;
        return true;
    }

    static string? FirstSampleRule(List<Rule> rules, SampleState state, string? role)
    {
        foreach (var rule in rules)
            if (rule.MatchesSample(state, role)) return rule.Layer;
        return null;
    }

    static string ReadResource()
    {
        using var stream = typeof(LayerRules).Assembly.GetManifestResourceStream(DefaultResource)
            ?? throw new InvalidOperationException($"resource {DefaultResource} is missing");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    sealed record RuleFile(List<Rule> Sample, List<Rule> Frames, List<Rule> Fallback, string[] Framework, Dictionary<string, string> Descriptions);

    static readonly Regex LayerName = new("^[a-z0-9][a-z0-9._-]{0,39}$", RegexOptions.CultureInvariant);

    static RuleFile Parse(string text, string what)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new LayerRulesException($"{what} is not valid JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new LayerRulesException($"{what}: the file must be a JSON object");
            foreach (var property in root.EnumerateObject())
                if (property.Name is not ("version" or "comment" or "framework" or "sample" or "frames" or "fallback" or "descriptions"))
                    throw new LayerRulesException($"{what}: unknown key '{property.Name}' (expected version, framework, sample, frames, fallback, descriptions)");
            if (root.TryGetProperty("version", out var version) && (version.ValueKind != JsonValueKind.Number || version.GetDouble() != 1))
                throw new LayerRulesException($"{what}: \"version\" must be 1");
            var framework = root.TryGetProperty("framework", out var fw) ? Strings(fw, what, "framework") : [];
            var descriptions = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("descriptions", out var d))
            {
                if (d.ValueKind != JsonValueKind.Object) throw new LayerRulesException($"{what}: \"descriptions\" must be an object of layer names to text");
                foreach (var p in d.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.String) throw new LayerRulesException($"{what}: description of '{p.Name}' must be a string");
                    descriptions[p.Name] = p.Value.GetString()!;
                }
            }
            if (!root.TryGetProperty("sample", out _) && !root.TryGetProperty("frames", out _) && !root.TryGetProperty("fallback", out _))
                throw new LayerRulesException($"{what}: no rules (give at least one of \"sample\", \"frames\", \"fallback\")");
            return new RuleFile(Rules(root, "sample", what, false), Rules(root, "frames", what, true), Rules(root, "fallback", what, false),
                framework, descriptions);
        }
    }

    static List<Rule> Rules(JsonElement root, string key, string what, bool frames)
    {
        if (!root.TryGetProperty(key, out var list)) return [];
        if (list.ValueKind != JsonValueKind.Array) throw new LayerRulesException($"{what}: \"{key}\" must be an array of rules");
        var rules = new List<Rule>();
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            index++;
            var where = $"{what}: {key} rule {index}";
            if (item.ValueKind != JsonValueKind.Object) throw new LayerRulesException($"{where} must be an object");
            string? layer = null;
            string[] match = [], modules = [], states = [], threads = [], deferTo = [];
            var app = false;
            foreach (var p in item.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "layer":
                        layer = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                        if (layer is null || !LayerName.IsMatch(layer))
                            throw new LayerRulesException($"{where}: \"layer\" must be a name of lower-case letters, digits, '.', '_' or '-' (at most 40)");
                        break;
                    case "match" when frames: match = Strings(p.Value, where, "match"); break;
                    case "modules" when frames: modules = Strings(p.Value, where, "modules"); break;
                    case "deferTo" when frames: deferTo = Strings(p.Value, where, "deferTo"); break;
                    case "app" when frames:
                        if (p.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw new LayerRulesException($"{where}: \"app\" must be true or false");
                        app = p.Value.GetBoolean();
                        break;
                    case "states": states = Strings(p.Value, where, "states"); break;
                    case "threads" when !frames: threads = Strings(p.Value, where, "threads"); break;
                    case "comment": break;
                    default:
                        throw new LayerRulesException(frames
                            ? $"{where}: unknown key '{p.Name}' (a frames rule has layer, match, modules, app, deferTo, states)"
                            : $"{where}: unknown key '{p.Name}' (a {key} rule has layer, states, threads)");
                }
            }
            if (layer is null) throw new LayerRulesException($"{where} has no \"layer\"");
            if (frames && match.Length == 0 && modules.Length == 0 && !app)
                throw new LayerRulesException($"{where} ('{layer}') matches no frame: give \"match\", \"modules\" or \"app\": true");
            var stateValues = states.Select(s => SampleStates.All.FirstOrDefault(v => v.Name() == s) is var v && v.Name() == s ? v
                : throw new LayerRulesException($"{where}: unknown state '{s}' (states are {string.Join(", ", SampleStates.All.Select(x => x.Name()))})")).ToHashSet();
            rules.Add(new Rule(layer, match.Select(Glob).ToArray(), modules.Select(Glob).ToArray(), app, stateValues, threads, deferTo));
        }
        return rules;
    }

    static string[] Strings(JsonElement value, string where, string key)
    {
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String || e.GetString()!.Length == 0))
            throw new LayerRulesException($"{where}: \"{key}\" must be an array of non-empty strings");
        return value.EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    /// <summary>A whole-name, case-sensitive glob: '*' matches any run of characters; everything else is literal.</summary>
    static Regex Glob(string pattern) =>
        new("^" + string.Join(".*", pattern.Split('*').Select(Regex.Escape)) + "$", RegexOptions.CultureInvariant | RegexOptions.Singleline);

    sealed record Rule(string Layer, Regex[] Match, Regex[] Modules, bool App, HashSet<SampleState> States, string[] Threads, string[] DeferTo)
    {
        public bool MatchesFrame(FrameInfo frame, string name, LayerRules rules)
        {
            foreach (var glob in Match)
                if (glob.IsMatch(name)) return true;
            if (frame.Module.Length > 0)
                foreach (var glob in Modules)
                    if (glob.IsMatch(frame.Module)) return true;
            return App && rules.IsAppCode(frame);
        }

        public bool MatchesSample(SampleState state, string? role) =>
            (States.Count == 0 || States.Contains(state))
            && (Threads.Length == 0 || (role is not null && Threads.Any(t => t.Equals(role, StringComparison.OrdinalIgnoreCase))));
    }
}
