using Snapper.Store;

namespace Snapper.Report.Export;

/// <summary>
/// Where a method's source is, as far as the capture knows: the store keeps a file and line per sampled position
/// (when a PDB was found), but the exports group per method, so a method gets its source file and the lowest line
/// sampled in it (the closest known to where it starts). <see cref="Line"/> is 0 when no line is known.
/// </summary>
sealed record MethodSource(string File, int Line)
{
    /// <summary>Methods with a known file; the first file by frame id wins if a method's frames disagree (inlined code).</summary>
    public static Dictionary<MethodIdentity, MethodSource> Of(Profile profile)
    {
        var sources = new Dictionary<MethodIdentity, MethodSource>();
        foreach (var (_, frame) in profile.Frames.OrderBy(f => f.Key))
        {
            if (frame.File is not { Length: > 0 } file) continue;
            var method = MethodIdentity.Of(frame);
            if (!sources.TryGetValue(method, out var known)) sources[method] = new MethodSource(file, Math.Max(0, frame.Line));
            else if (known.File == file && frame.Line > 0 && (known.Line == 0 || frame.Line < known.Line))
                sources[method] = known with { Line = frame.Line };
        }
        return sources;
    }
}
