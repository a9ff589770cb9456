using System.Runtime.InteropServices;
using System.Text;
using Snapper.Store;

namespace Snapper.Report.Export;

/// <summary>
/// Brendan Gregg's folded stacks, the input of flamegraph.pl, inferno and speedscope's importer: one line per distinct
/// stack, <c>root;caller;callee count</c>, root first, the count in samples. With <c>perThread</c> the thread's label is
/// the root frame. Lines are sorted (ordinal) so the same session always gives the same bytes.
/// </summary>
sealed class FoldedExporter(bool perThread) : IProfileExporter
{
    /// <summary>A sample whose thread showed no frame still counts; without a thread root it needs a frame to stand on.</summary>
    public const string NoFrames = "[no frames]";

    public string FileExtension => ".folded";
    public bool IsText => true;

    public void Write(Profile profile, Stream output)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(output);
        var export = new ExportProfile(profile);
        var names = new Dictionary<int, string>();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var line = new StringBuilder();
        foreach (var thread in export.Threads)
        {
            var root = perThread ? FrameText(thread.Thread.Label) : null;
            foreach (var (path, count) in CountPaths(export, thread))
            {
                line.Clear();
                if (root is not null) line.Append(root);
                foreach (var method in path)
                {
                    if (line.Length > 0) line.Append(';');
                    if (!names.TryGetValue(method, out var name)) names[method] = name = FrameText(export.Methods[method].DisplayName);
                    line.Append(name);
                }
                if (line.Length == 0) line.Append(NoFrames);
                CollectionsMarshal.GetValueRefOrAddDefault(counts, line.ToString(), out _) += count;
            }
        }

        using var writer = new StreamWriter(output, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
        foreach (var (stack, count) in counts.OrderBy(c => c.Key, StringComparer.Ordinal))
            writer.WriteLine($"{stack} {ReportFormat.Integer(count)}");
    }

    static Dictionary<int[], long> CountPaths(ExportProfile export, ThreadSamples thread)
    {
        var counts = new Dictionary<int[], long>(ReferenceEqualityComparer.Instance);
        foreach (var sample in thread.Samples)
            if (sample.Wall > 0) CollectionsMarshal.GetValueRefOrAddDefault(counts, export.PathOf(sample.StackId), out _) += sample.Wall;
        return counts;
    }

    /// <summary>
    /// A frame as one field of a line: ';' separates frames and a line break ends the record, so a name from the
    /// target containing them (any string can be a type name) would forge frames or lines. ';' becomes ':', and every
    /// control character and Unicode line or paragraph separator '?' (JavaScript readers such as speedscope's end a
    /// line at U+2028 too). An empty name becomes '?', so a reader never sees an empty field.
    /// </summary>
    internal static string FrameText(string name)
    {
        if (name.Length == 0) return "?";
        if (!name.Any(c => c == ';' || BreaksLine(c))) return name;
        var text = new StringBuilder(name.Length);
        foreach (var c in name) text.Append(c == ';' ? ':' : BreaksLine(c) ? '?' : c);
        return text.ToString();
    }

    static bool BreaksLine(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
