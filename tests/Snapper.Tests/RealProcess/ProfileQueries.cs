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

    public static string Describe(FrameInfo[] stack) => string.Join(" -> ", stack.Select(f => f.DisplayName));
}
