using System.Text.Json;
using System.Text.Encodings.Web;

namespace Snapper.Report;

/// <summary>
/// The flame graph's data, embedded in the HTML as JSON: every string once in <c>names</c>, the tree as parallel
/// arrays indexed by node (pre-order, so a parent always precedes its children). Repeating a frame name per node
/// would make big profiles several times larger.
/// </summary>
static class FlameGraphData
{
    /// <summary>Nodes under this share of all samples are left out: at screen width they would be under a pixel anyway.</summary>
    public const double DefaultMinPercent = 0.01;

    /// <summary>Above this many nodes the threshold is raised, so a pathological profile still gives a usable page.</summary>
    const int MaxNodes = 100_000;

    /// <summary>Category codes the script colours by; same order as its CATEGORY table.</summary>
    static int CategoryCode(CallTreeNode node) => node.Kind switch
    {
        CallTreeNodeKind.Root => 0,
        CallTreeNodeKind.Thread => 1,
        _ => 2 + (int)node.Method!.Value.Category,
    };

    /// <summary>The JSON text (with no '&lt;', '&gt;' or '&amp;' in it) and the threshold actually used.</summary>
    public static (string Json, double MinPercent) Build(ProfileAnalysis analysis, double minPercent = DefaultMinPercent)
    {
        var kept = Select(analysis, ref minPercent);
        var names = new List<string>();
        var nameIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        int Intern(string name)
        {
            if (nameIndex.TryGetValue(name, out var index)) return index;
            nameIndex[name] = names.Count;
            names.Add(name);
            return names.Count - 1;
        }

        var ids = new Dictionary<CallTreeNode, int>(ReferenceEqualityComparer.Instance);
        var parent = new int[kept.Count];
        var name = new int[kept.Count];
        var module = new int[kept.Count];
        var category = new int[kept.Count];
        var total = new long[kept.Count];
        var self = new long[kept.Count];
        for (var i = 0; i < kept.Count; i++)
        {
            var node = kept[i];
            ids[node] = i;
            parent[i] = node.Parent is { } p ? ids[p] : -1;
            name[i] = Intern(node.Name);
            module[i] = node.Method is { Module.Length: > 0 } m ? Intern(m.Module) : -1;
            category[i] = CategoryCode(node);
            total[i] = node.Total;
            self[i] = node.Self;
        }

        using var buffer = new MemoryStream();
        // The default encoder escapes '<', '>', '&', quotes and all non-ASCII as \uXXXX: the text cannot close the
        // <script> element it is embedded in, whatever the target named its methods.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.Default }))
        {
            json.WriteStartObject();
            json.WriteNumber("samples", analysis.TotalSamples);
            json.WriteStartArray("names");
            foreach (var n in names) json.WriteStringValue(n);
            json.WriteEndArray();
            json.WriteStartObject("nodes");
            Array(json, "parent", parent);
            Array(json, "name", name);
            Array(json, "module", module);
            Array(json, "cat", category);
            Array(json, "total", total);
            Array(json, "self", self);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        var text = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        if (text.AsSpan().IndexOfAny("<>&") >= 0)
            throw new InvalidOperationException("flame graph data is not safe to embed in HTML");
        return (text, minPercent);
    }

    /// <summary>Pre-order list of the nodes to draw; doubles the threshold until the count is reasonable.</summary>
    static List<CallTreeNode> Select(ProfileAnalysis analysis, ref double minPercent)
    {
        while (true)
        {
            var kept = new List<CallTreeNode>();
            var pending = new Stack<CallTreeNode>();
            pending.Push(analysis.CallTree);
            while (pending.Count > 0 && kept.Count <= MaxNodes)
            {
                var node = pending.Pop();
                kept.Add(node);
                for (var i = node.Children.Count - 1; i >= 0; i--)
                    if (analysis.Percent(node.Children[i].Total) >= minPercent) pending.Push(node.Children[i]);
            }
            if (kept.Count <= MaxNodes) return kept;
            minPercent *= 2;
        }
    }

    static void Array(Utf8JsonWriter json, string name, int[] values)
    {
        json.WriteStartArray(name);
        foreach (var v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }

    static void Array(Utf8JsonWriter json, string name, long[] values)
    {
        json.WriteStartArray(name);
        foreach (var v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }
}
