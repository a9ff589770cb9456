using System.Text.Encodings.Web;
using System.Text.Json;
using Snapper.Store;

namespace Snapper.Report.Export;

/// <summary>
/// speedscope's file format (https://www.speedscope.app/file-format-schema.json): a shared frame table with one frame
/// per method, then for each sample weight (wall time, and CPU time where the store has it) one sampled profile of
/// all threads merged and one per thread with any of that weight. A thread's profile keeps time order, so speedscope's
/// "Time Order" view is its timeline; consecutive samples of the same stack become one sample with their weights
/// added, and samples that weigh nothing (a blocked thread's CPU time) are left out. The merged profile has one sample
/// per distinct stack: across threads there is no single time order to keep.
/// </summary>
sealed class SpeedscopeExporter(string exporter) : IProfileExporter
{
    public const string Schema = "https://www.speedscope.app/file-format-schema.json";

    public string FileExtension => ".speedscope.json";
    public bool IsText => true;

    /// <summary>A stack and what its samples weigh, one value per <see cref="ExportProfile.Weights"/>.</summary>
    sealed record WeightedStack(int[] Path, long[] Weights);

    public void Write(Profile profile, Stream output)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(output);
        var export = new ExportProfile(profile);
        var merged = Merged(export);
        var sources = MethodSource.Of(profile);

        // Only what JSON requires is escaped: the file is data for speedscope, never pasted into a page.
        using (var json = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("$schema", Schema);
            json.WriteString("exporter", exporter);
            json.WriteString("name", ExportProfile.SessionTitle(profile));
            json.WriteNumber("activeProfileIndex", 0);
            json.WriteStartObject("shared");
            json.WriteStartArray("frames");
            for (var m = 0; m < export.Methods.Count; m++) WriteFrame(json, export.Methods[m], sources);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteStartArray("profiles");
            for (var w = 0; w < export.Weights.Count; w++)
            {
                var weight = export.Weights[w];
                WriteProfile(json, $"All threads, {weight.Title}", weight, w, merged);
                foreach (var thread in export.Threads)
                    if (InTimeOrder(export, thread, w) is { Count: > 0 } stacks) WriteProfile(json, $"{thread.Thread.Label}, {weight.Title}", weight, w, stacks);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        output.WriteByte((byte)'\n');
    }

    /// <summary>
    /// A thread's samples that carry weight <paramref name="w"/>, in time order, consecutive ones of the same stack as
    /// one. Samples without that weight are passed over, so they do not split a run (a CPU-only sample of
    /// BetweenSamples between two wall-clock samples of one blocked stack).
    /// </summary>
    static List<WeightedStack> InTimeOrder(ExportProfile export, ThreadSamples thread, int w)
    {
        var stacks = new List<WeightedStack>();
        foreach (var sample in thread.Samples)
        {
            var weights = export.WeightsOf(sample);
            if (weights[w] <= 0) continue;
            var path = export.PathOf(sample.StackId);
            if (stacks.Count > 0 && ReferenceEquals(stacks[^1].Path, path)) Add(stacks[^1].Weights, weights);
            else stacks.Add(new WeightedStack(path, weights));
        }
        return stacks;
    }

    /// <summary>One entry per distinct stack over all threads, in the order stacks are first seen.</summary>
    static List<WeightedStack> Merged(ExportProfile export)
    {
        var stacks = new List<WeightedStack>();
        var byPath = new Dictionary<int[], WeightedStack>(ReferenceEqualityComparer.Instance);
        foreach (var thread in export.Threads)
        {
            foreach (var sample in thread.Samples)
            {
                var path = export.PathOf(sample.StackId);
                var weights = export.WeightsOf(sample);
                if (byPath.TryGetValue(path, out var known)) Add(known.Weights, weights);
                else stacks.Add(byPath[path] = new WeightedStack(path, weights));
            }
        }
        return stacks;
    }

    static void Add(long[] sum, long[] values)
    {
        for (var i = 0; i < sum.Length; i++) sum[i] += values[i];
    }

    /// <summary>
    /// speedscope shows <c>file:line</c> beside a frame's name. Without a PDB the module (an assembly or a native
    /// library) is the best "where" there is, as a browser profile names a script's URL. A transition frame's name
    /// already starts with its module (<c>libc!usleep</c>), so it gets none.
    /// </summary>
    static void WriteFrame(Utf8JsonWriter json, MethodIdentity method, Dictionary<MethodIdentity, MethodSource> sources)
    {
        json.WriteStartObject();
        json.WriteString("name", method.DisplayName);
        if (sources.TryGetValue(method, out var source))
        {
            json.WriteString("file", source.File);
            if (source.Line > 0) json.WriteNumber("line", source.Line);
        }
        else if (method.Module.Length > 0 && method.Kind != FrameKind.Transition) json.WriteString("file", method.Module);
        json.WriteEndObject();
    }

    /// <summary>speedscope sizes the profile by <c>endValue - startValue</c>: the sum of the weights, starting at 0.</summary>
    static void WriteProfile(Utf8JsonWriter json, string name, SampleWeight weight, int index, List<WeightedStack> stacks)
    {
        json.WriteStartObject();
        json.WriteString("type", "sampled");
        json.WriteString("name", name);
        json.WriteString("unit", weight.Unit);
        json.WriteNumber("startValue", 0);
        json.WriteNumber("endValue", stacks.Sum(s => s.Weights[index]));
        var weighing = stacks.Where(s => s.Weights[index] > 0).ToList();
        json.WriteStartArray("samples");
        foreach (var stack in weighing)
        {
            json.WriteStartArray();
            foreach (var method in stack.Path) json.WriteNumberValue(method);
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteStartArray("weights");
        foreach (var stack in weighing) json.WriteNumberValue(stack.Weights[index]);
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
