using Snapper.Store;

namespace Snapper.Tests.RealProcess;

/// <summary>Reads a stored capture back for assertions.</summary>
static class ProfileQueries
{
    public static Profile LoadLatest(string dbPath)
    {
        using var db = SnapperDatabase.Open(dbPath, create: false);
        var session = SessionQueries.Find(db, null) ?? throw new InvalidOperationException("no session stored");
        return ProfileReader.Load(db, session);
    }

    /// <summary>
    /// The stacks (outermost first, as frames) of every sample of the thread with this name: what the snapshots saw, so
    /// not the CPU-only samples of BetweenSamples.
    /// </summary>
    public static List<FrameInfo[]> StacksOf(Profile profile, string threadName)
    {
        var thread = profile.Threads.SingleOrDefault(t => t.Name == threadName)
            ?? throw new Xunit.Sdk.XunitException($"no thread named {threadName}; threads: {string.Join(", ", profile.Threads.Select(t => t.Label))}");
        return profile.Samples.Where(s => s.ThreadId == thread.Id && s.Wall == 1)
            .Select(s => profile.FramesOf(s.StackId).Select(id => profile.Frames[id]).ToArray())
            .ToList();
    }

    /// <summary>What the snapshots saw of the thread with this name (not the CPU-only samples of BetweenSamples).</summary>
    public static List<Sample> SamplesOf(Profile profile, string threadName) =>
        SamplesOf(profile, profile.Threads.SingleOrDefault(t => t.Name == threadName)
            ?? throw new Xunit.Sdk.XunitException($"no thread named {threadName}; threads: {string.Join(", ", profile.Threads.Select(t => t.Label))}"));

    /// <summary>What the snapshots saw of the thread (not the CPU-only samples of BetweenSamples).</summary>
    public static List<Sample> SamplesOf(Profile profile, ThreadInfo thread) => profile.Samples.Where(s => s.ThreadId == thread.Id && s.Wall == 1).ToList();

    /// <summary>At least 95% of the named thread's samples (and at least <paramref name="minSamples"/> of them) are in <paramref name="state"/>.</summary>
    public static void AssertMostlyIn(Profile profile, string threadName, SampleState state, int minSamples = 1)
    {
        var samples = SamplesOf(profile, threadName);
        var share = samples.Count(s => s.State == state) * 1.0 / samples.Count;
        Assert.True(samples.Count >= minSamples, $"{threadName}: only {samples.Count} samples");
        Assert.True(share >= 0.95, $"{threadName}: {share:P1} of {samples.Count} samples in {state}; states seen: " +
            string.Join(", ", samples.GroupBy(s => s.State).Select(g => $"{g.Key} {g.Count()}")));
    }

    public static string Describe(FrameInfo[] stack) => string.Join(" -> ", stack.Select(f => f.DisplayName));
}
