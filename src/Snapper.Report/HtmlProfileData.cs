using System.Text.Encodings.Web;
using System.Text.Json;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// The profile embedded in the HTML report, for the page's script to aggregate under whatever view the reader picks
/// (threads, a time range, on-CPU only, idle samples, wall clock or CPU time). Compact, because a capture can hold
/// millions of samples: every string once in <c>names</c>; methods, stack prefix-tree nodes and threads as parallel
/// arrays; and the samples themselves in <c>packed</c>: gzip-compressed, base64-encoded unsigned LEB128 varints,
/// <list type="bullet">
/// <item>the snapshot count, then each snapshot's offset from the previous one in microseconds;</item>
/// <item>for each thread of <c>threads</c>, in order: its sample count, then per sample (in time order) the snapshot
/// index minus the previous sample's (the first: the index), the stack node, the state, the CPU microseconds, the
/// layer (an index into <c>layers</c>, see <see cref="LayerRules"/>), and the wall-clock samples it counts as (1, or 0
/// for the CPU a blocked thread used between snapshots: see <see cref="BetweenSamples"/>).</item>
/// </list>
/// A blocked thread repeats the same bytes sample after sample, which gzip all but removes.
/// </summary>
static class HtmlProfileData
{
    /// <summary>The JSON text, with no '&lt;', '&gt;' or '&amp;' in it: it cannot end the script element it sits in.</summary>
    public static string Build(Profile profile, IReadOnlyList<ThreadStats> threads, bool includeIdle, ProfileLayers layers)
    {
        var names = new NameTable();
        var methods = new MethodTable(profile);

        // Stack nodes renumbered densely from 1 (0 is the empty stack), parents before children.
        var nodeIndex = new Dictionary<int, int> { [0] = 0 };
        var nodeParent = new List<int> { -1 };
        var nodeMethod = new List<int> { -1 };
        var nodeLine = new List<int> { -1 };
        var unknown = new List<(int StackId, int Method, int Line)>();
        int NodeOf(int stackId)
        {
            // Iterative: real stacks can be thousands of frames deep.
            unknown.Clear();
            var id = stackId;
            int known;
            while (!nodeIndex.TryGetValue(id, out known))
            {
                var method = methods.MethodOfStack(id, out var parentId);
                // "Program.cs:125" when the frame has a source line: the page lists a method's hottest lines.
                var frame = profile.Stacks.TryGetValue(id, out var node) ? profile.Frames.GetValueOrDefault(node.FrameId) : null;
                var line = frame is { File: { } file, Line: > 0 } ? names.Intern($"{Path.GetFileName(file)}:{frame.Line.ToString(System.Globalization.CultureInfo.InvariantCulture)}") : -1;
                unknown.Add((id, method, line));
                id = parentId;
            }
            for (var i = unknown.Count - 1; i >= 0; i--)
            {
                var index = nodeParent.Count;
                nodeIndex[unknown[i].StackId] = index;
                nodeParent.Add(known);
                nodeMethod.Add(unknown[i].Method);
                nodeLine.Add(unknown[i].Line);
                known = index;
            }
            return known;
        }

        var threadIndex = new Dictionary<int, int>();
        for (var i = 0; i < threads.Count; i++) threadIndex[threads[i].Thread.Id] = i;

        var packed = Pack(profile, threads, NodeOf, layers);

        using var buffer = new MemoryStream();
        // The default encoder escapes '<', '>', '&', quotes and all non-ASCII as \uXXXX: the text cannot close the
        // <script> element it is embedded in, whatever the target named its methods and threads.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.Default }))
        {
            json.WriteStartObject();
            json.WriteBoolean("includeIdle", includeIdle);
            json.WriteStartObject("methods");
            Array(json, "name", Enumerable.Range(0, methods.Count).Select(m => names.Intern(methods[m].DisplayName)));
            Array(json, "module", Enumerable.Range(0, methods.Count).Select(m => methods[m].Module.Length == 0 ? -1 : names.Intern(methods[m].Module)));
            Array(json, "cat", Enumerable.Range(0, methods.Count).Select(m => (int)methods[m].Category));
            json.WriteEndObject();
            json.WriteStartObject("stacks");
            Array(json, "parent", nodeParent);
            Array(json, "method", nodeMethod);
            Array(json, "line", nodeLine);
            json.WriteEndObject();
            json.WriteStartObject("threads");
            Array(json, "label", threads.Select(t => names.Intern(t.Thread.Label)));
            Array(json, "group", ThreadGroups.Labels(threads.Select(t => t.Thread).ToList()).Select(names.Intern));
            json.WriteEndObject();
            Array(json, "layers", layers.Names.Select(names.Intern));
            json.WriteNumber("idleLayer", layers.IdleIndex);
            // The states by their stored numbers (as the samples carry them): which is on a CPU, which is idle, and each one's colour.
            json.WriteStartObject("states");
            json.WriteNumber("cpu", (int)SampleState.Cpu);
            json.WriteNumber("idle", (int)SampleState.IdleThreadPool);
            json.WriteStartArray("colour");
            for (var state = 0; state <= SampleStates.All.Max(s => (int)s); state++) json.WriteStringValue(((SampleState)state).Colour());
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteString("packed", packed);
            json.WriteStartArray("names");
            foreach (var name in names.All) json.WriteStringValue(name);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        var text = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        if (text.AsSpan().IndexOfAny("<>&") >= 0)
            throw new InvalidOperationException("report data is not safe to embed in HTML");
        return text;
    }

    static string Pack(Profile profile, IReadOnlyList<ThreadStats> threads, Func<int, int> nodeOf, ProfileLayers layers)
    {
        var snapshotIndex = new Dictionary<int, int>(profile.Snapshots.Count);
        var bytes = new VarintWriter();
        bytes.Write(profile.Snapshots.Count);
        long previousOffset = 0;
        for (var i = 0; i < profile.Snapshots.Count; i++)
        {
            var snapshot = profile.Snapshots[i];
            snapshotIndex[snapshot.Sequence] = i;
            bytes.Write(Math.Max(0, snapshot.OffsetUs - previousOffset)); // offsets only grow; never write a negative
            previousOffset = Math.Max(previousOffset, snapshot.OffsetUs);
        }
        // The store hands samples out in snapshot order, so each thread's list is in time order already.
        var byThread = profile.Samples.GroupBy(s => s.ThreadId).ToDictionary(g => g.Key, g => g.ToList());
        bytes.Write(threads.Count);
        foreach (var thread in threads)
        {
            var samples = byThread.GetValueOrDefault(thread.Thread.Id) ?? [];
            // A sample whose snapshot is not stored (a damaged file) cannot be placed in time: leave it out.
            var placed = samples.Where(s => snapshotIndex.ContainsKey(s.Sequence)).ToList();
            bytes.Write(placed.Count);
            var previous = 0;
            foreach (var sample in placed)
            {
                var index = snapshotIndex[sample.Sequence];
                bytes.Write(index - previous);
                previous = index;
                bytes.Write(nodeOf(sample.StackId));
                bytes.Write((int)sample.State);
                bytes.Write((sample.CpuNs + 500) / 1000);
                bytes.Write(layers.IndexOf(sample));
                bytes.Write(sample.Wall);
            }
        }
        return Convert.ToBase64String(bytes.Compress());
    }

    static void Array(Utf8JsonWriter json, string name, IEnumerable<int> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }

    sealed class NameTable
    {
        readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        public List<string> All { get; } = new();

        public int Intern(string name)
        {
            if (_index.TryGetValue(name, out var index)) return index;
            _index[name] = All.Count;
            All.Add(name);
            return All.Count - 1;
        }
    }
}
