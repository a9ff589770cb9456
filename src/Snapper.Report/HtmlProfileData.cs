using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// The profile embedded in the HTML report as JSON, for the page's script to aggregate under whatever view the
/// reader picks (threads, on-CPU only, idle samples, wall clock or CPU time). Compact: every string once in
/// <c>names</c>; methods, stack prefix-tree nodes, threads and rows as parallel arrays; rows are samples grouped by
/// (thread, stack, state), each with its sample count and CPU nanoseconds, so size follows distinct stacks, not samples.
/// </summary>
static class HtmlProfileData
{
    /// <summary>The JSON text, with no '&lt;', '&gt;' or '&amp;' in it: it cannot end the script element it sits in.</summary>
    public static string Build(Profile profile, IReadOnlyList<ThreadStats> threads, bool includeIdle)
    {
        var names = new NameTable();
        var methods = new MethodTable(profile);

        // Stack nodes renumbered densely from 1 (0 is the empty stack), parents before children.
        var nodeIndex = new Dictionary<int, int> { [0] = 0 };
        var nodeParent = new List<int> { -1 };
        var nodeMethod = new List<int> { -1 };
        var unknown = new List<(int StackId, int Method)>();
        int NodeOf(int stackId)
        {
            // Iterative: real stacks can be thousands of frames deep.
            unknown.Clear();
            var id = stackId;
            int known;
            while (!nodeIndex.TryGetValue(id, out known))
            {
                unknown.Add((id, methods.MethodOfStack(id, out var parentId)));
                id = parentId;
            }
            for (var i = unknown.Count - 1; i >= 0; i--)
            {
                var index = nodeParent.Count;
                nodeIndex[unknown[i].StackId] = index;
                nodeParent.Add(known);
                nodeMethod.Add(unknown[i].Method);
                known = index;
            }
            return known;
        }

        var threadIndex = new Dictionary<int, int>();
        for (var i = 0; i < threads.Count; i++) threadIndex[threads[i].Thread.Id] = i;

        var rows = new Dictionary<(int Thread, int Stack, SampleState State), (long Count, long Cpu)>();
        foreach (var sample in profile.Samples)
        {
            if (!threadIndex.TryGetValue(sample.ThreadId, out var thread)) continue;
            ref var row = ref CollectionsMarshal.GetValueRefOrAddDefault(rows, (thread, NodeOf(sample.StackId), sample.State), out _);
            row.Count++;
            row.Cpu += sample.CpuNs;
        }
        // A stable order, so the same store always gives the same file.
        var ordered = rows.OrderBy(r => r.Key.Thread).ThenBy(r => r.Key.Stack).ThenBy(r => r.Key.State).ToList();

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
            json.WriteEndObject();
            json.WriteStartObject("threads");
            Array(json, "label", threads.Select(t => names.Intern(t.Thread.Label)));
            json.WriteEndObject();
            json.WriteStartObject("rows");
            Array(json, "thread", ordered.Select(r => r.Key.Thread));
            Array(json, "stack", ordered.Select(r => r.Key.Stack));
            Array(json, "state", ordered.Select(r => (int)r.Key.State));
            Array(json, "count", ordered.Select(r => r.Value.Count));
            Array(json, "cpu", ordered.Select(r => r.Value.Cpu));
            json.WriteEndObject();
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

    static void Array(Utf8JsonWriter json, string name, IEnumerable<int> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }

    static void Array(Utf8JsonWriter json, string name, IEnumerable<long> values)
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
