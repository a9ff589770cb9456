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

    /// <summary>Only threads whose names match, or every thread when null.</summary>
    public ThreadSelection? Threads { get; init; }
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
        return new Profile
        {
            Session = profile.Session,
            Frames = profile.Frames,
            Stacks = profile.Stacks,
            Threads = kept,
            Snapshots = profile.Snapshots,
            Samples = profile.Samples.Where(s => ids.Contains(s.ThreadId)).ToList(),
        };
    }

    /// <summary>The samples an export writes: the selected threads, without idle samples unless asked for.</summary>
    public static Profile Apply(Profile profile, ReportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var selected = SelectThreads(profile, options.Threads);
        if (options.IncludeIdle || !selected.Samples.Any(s => s.State.IsIdle())) return selected;
        return new Profile
        {
            Session = selected.Session,
            Frames = selected.Frames,
            Stacks = selected.Stacks,
            Threads = selected.Threads,
            Snapshots = selected.Snapshots,
            Samples = selected.Samples.Where(s => !s.State.IsIdle()).ToList(),
        };
    }
}
