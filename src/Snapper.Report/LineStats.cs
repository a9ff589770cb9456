using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// One source line of a method: <see cref="Self"/> samples executing it, <see cref="Total"/> samples with it on the
/// stack (the method's frame on that line, counted once per sample).
/// </summary>
public sealed record LineStats(string File, int Line, long Self, long Total)
{
    /// <summary>"Program.cs:125": the file name without its directory, as the reports show it.</summary>
    public string Label => $"{Path.GetFileName(File)}:{Line.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>
/// The lines of each method that were sampled, hottest first. Reports group by method; these say where in it the
/// time went. Frames without a PDB have no line and are not counted here (their method's counts still are).
/// </summary>
public static class MethodLines
{
    public static IReadOnlyDictionary<MethodIdentity, IReadOnlyList<LineStats>> Of(Profile profile, IEnumerable<Sample> samples)
    {
        var perStack = samples.GroupBy(s => s.StackId).Select(g => (Stack: g.Key, Count: g.Sum(s => (long)s.Wall)));
        var counts = new Dictionary<MethodIdentity, Dictionary<(string File, int Line), (long Self, long Total)>>();
        var seen = new HashSet<(MethodIdentity, string, int)>();
        foreach (var (stack, count) in perStack)
        {
            // Walked leniently: a damaged store's missing node or frame ends the walk rather than the report.
            var frames = new List<FrameInfo?>();
            for (var id = stack; id != 0 && profile.Stacks.TryGetValue(id, out var node); id = node.Parent)
                frames.Add(profile.Frames.GetValueOrDefault(node.FrameId));
            frames.Reverse();
            seen.Clear();
            for (var i = 0; i < frames.Count; i++)
            {
                if (frames[i] is not { File: { } file, Line: > 0 } frame) continue;
                var method = MethodIdentity.Of(frame);
                if (!counts.TryGetValue(method, out var lines)) counts[method] = lines = new();
                var (self, total) = lines.GetValueOrDefault((file, frame.Line));
                if (seen.Add((method, file, frame.Line))) total += count; // a recursive method on one line counts once
                if (i == frames.Count - 1) self += count;
                lines[(file, frame.Line)] = (self, total);
            }
        }
        return counts.ToDictionary(m => m.Key, m => (IReadOnlyList<LineStats>)m.Value
            .Select(l => new LineStats(l.Key.File, l.Key.Line, l.Value.Self, l.Value.Total))
            .OrderByDescending(l => l.Total).ThenByDescending(l => l.Self).ThenBy(l => l.Line).ToList());
    }
}
