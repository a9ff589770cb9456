using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// Which samples a report or export shows. By default every thread, and every sample except those of idle
/// thread-pool threads (parked workers, the timer, gate and socket-engine threads waiting for work), which would
/// otherwise fill the wall-clock view of any server; <see cref="IncludeIdle"/> shows them too.
/// </summary>
public sealed record ReportOptions
{
    public static readonly ReportOptions Default = new();

    public bool IncludeIdle { get; init; }

    /// <summary>Show the target's command line as it is, secrets included (see <see cref="CommandLineRedactor"/>).</summary>
    public bool ShowSecrets { get; init; }

    /// <summary>The target's command line as reports may show it.</summary>
    public string CommandLine(SessionTarget target) => ShowSecrets ? target.CommandLine : CommandLineRedactor.Redact(target.CommandLine);

    /// <summary>Only threads whose names match, or every thread when null.</summary>
    public ThreadSelection? Threads { get; init; }

    /// <summary>The rules that attribute samples to layers (the built-in ones unless a user file was given).</summary>
    public LayerRules LayerRules { get; init; } = LayerRules.Default;

    /// <summary>Only samples in these layers (see <see cref="LayerRules"/>), or every layer when null.</summary>
    public IReadOnlySet<string>? Layers { get; init; }

    /// <summary>Only samples whose stack has a frame matching this, or every sample when null (<c>report --focus</c>).</summary>
    public FocusPattern? Focus { get; init; }
}

/// <summary>Narrows a profile to what <see cref="ReportOptions"/> asks for.</summary>
public static class ProfileFilter
{
    /// <summary>The profile with only the selected threads and their samples; idle samples are kept (the thread table counts them).</summary>
    public static Profile SelectThreads(Profile profile, ThreadSelection? threads)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (threads is null) return profile;
        var kept = profile.Threads.Where(threads.Matches).ToList();
        var ids = kept.Select(t => t.Id).ToHashSet();
        return profile.WithSamples(profile.Samples.Where(s => ids.Contains(s.ThreadId)).ToList(), kept);
    }

    /// <summary>
    /// The profile a report shows: the selected threads, then with <see cref="ReportOptions.Focus"/> only the samples
    /// whose stack matches (<paramref name="focus"/> says how many were seen and kept; null without a focus), then with
    /// <see cref="ReportOptions.Layers"/> only the samples in those layers. Idle samples are kept (the analysis decides).
    /// </summary>
    public static Profile Select(Profile profile, ReportOptions options, out FocusCounts? focus)
    {
        ArgumentNullException.ThrowIfNull(options);
        var selected = SelectThreads(profile, options.Threads);
        focus = null;
        IReadOnlyList<Sample> samples = selected.Samples;
        ProfileLayers? layersOfSelected = null; // its cache serves the focus counts and the layer filter alike
        ProfileLayers Layers() => layersOfSelected ??= new ProfileLayers(selected, options.LayerRules);
        if (options.Focus is { } pattern)
        {
            var matcher = pattern.Clone();
            var byStack = new Dictionary<int, bool>();
            bool Focused(int stackId)
            {
                if (byStack.TryGetValue(stackId, out var known)) return known;
                var frames = new List<FrameInfo>();
                for (var id = stackId; id != 0 && selected.Stacks.TryGetValue(id, out var node); id = node.Parent)
                    if (selected.Frames.TryGetValue(node.FrameId, out var frame)) frames.Add(frame);
                return byStack[stackId] = matcher.Matches(frames);
            }
            samples = samples.Where(s => Focused(s.StackId)).ToList();
            // What the view looked at: idle samples count only when they are shown.
            var idle = Layers();
            var seen = selected.Samples.Where(s => options.IncludeIdle || !idle.IsIdle(s)).Sum(s => (long)s.Wall);
            var kept = samples.Where(s => options.IncludeIdle || !idle.IsIdle(s)).Sum(s => (long)s.Wall);
            focus = new FocusCounts(pattern.Pattern, seen, kept);
        }
        if (options.Layers is { } wanted)
        {
            var layers = Layers();
            samples = samples.Where(s => wanted.Contains(layers.NameOf(s))).ToList();
        }
        if (ReferenceEquals(samples, selected.Samples)) return selected;
        return selected.WithSamples(samples);
    }

    /// <summary>The samples an export writes: the selected threads (focus and layers too), without idle samples unless asked for (as reports count them).</summary>
    public static Profile Apply(Profile profile, ReportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var selected = Select(profile, options, out _);
        var layers = new ProfileLayers(selected, options.LayerRules);
        if (options.IncludeIdle || !selected.Samples.Any(layers.IsIdle)) return selected;
        return selected.WithSamples(selected.Samples.Where(s => !layers.IsIdle(s)).ToList());
    }
}
