using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Snapper.Report;

sealed record DiffRow(string BaseSelf, string CompareSelf, string SelfDelta, string SelfCss, string BaseTotal, string CompareTotal,
    string TotalDelta, string TotalCss, string Name, string Module, string Css);

sealed record DiffTable(string Id, string Title, IReadOnlyList<DiffRow> Rows);

sealed record DiffPageModel(string Title, IReadOnlyList<Fact> Facts, IReadOnlyList<DiffTable> Tables, string DataJson, string Css, string Script, string ScriptHash);

/// <summary>
/// A diff as one self-contained page: a differential flame graph of the compared profile coloured by each frame's
/// change against the base, and the top regressions and improvements. Same safety rules as the report: everything
/// inline, nothing fetched, every name escaped.
/// </summary>
public static class DiffHtmlWriter
{
    public static void Write(ProfileDiff diff, DiffSides sides, TextWriter output, int top = 50)
    {
        var facts = new List<Fact>
        {
            new("Base", $"{sides.Base}: {ReportFormat.Count(diff.BaseSamples)} samples"),
            new("Compared", $"{sides.Compare}: {ReportFormat.Count(diff.CompareSamples)} samples"),
        };
        var tables = new List<DiffTable>
        {
            Table("regressions", "Regressions: more of the time spent here", diff.Regressions(top)),
            Table("improvements", "Improvements: less of the time spent here", diff.Improvements(top)),
        };
        HtmlTemplates.Diff.Render(output, new DiffPageModel($"{sides.Base} \u2192 {sides.Compare}", facts, tables, Data(diff),
            HtmlTemplates.Diff.Css, HtmlTemplates.Diff.Script, HtmlTemplates.Diff.ScriptHash));
    }

    static DiffTable Table(string id, string title, IReadOnlyList<FunctionChange> changes) => new(id, title, changes.Select(c => new DiffRow(
        Share(c.BaseSelf), Share(c.CompareSelf), DiffTextWriter.Points(c.SelfDelta), Css(c.SelfDelta),
        Share(c.BaseTotal), Share(c.CompareTotal), DiffTextWriter.Points(c.TotalDelta), Css(c.TotalDelta),
        c.Method.DisplayName, c.Method.Module, JsonReportWriter.CategoryName(c.Method.Category))).ToList());

    static string Share(double percent) => percent.ToString("0.0", CultureInfo.InvariantCulture) + "%";

    static string Css(double delta) => delta >= 0.05 ? "grew" : delta <= -0.05 ? "shrank" : "";

    /// <summary>The merged tree in pre-order as parallel arrays, every name once: the page draws from it.</summary>
    static string Data(ProfileDiff diff)
    {
        var names = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        int Intern(string name)
        {
            if (!index.TryGetValue(name, out var i)) { index[name] = i = names.Count; names.Add(name); }
            return i;
        }
        var parent = new List<int>();
        var name = new List<int>();
        var baseCounts = new List<long>();
        var compare = new List<long>();
        var pending = new Stack<(DiffNode Node, int Parent)>();
        pending.Push((diff.Root, -1));
        while (pending.Count > 0)
        {
            var (node, up) = pending.Pop();
            var id = parent.Count;
            parent.Add(up);
            name.Add(Intern(node.Name));
            baseCounts.Add(node.Base);
            compare.Add(node.Compare);
            // Largest first, so they draw from the left; pushed in reverse so the stack pops them in order.
            foreach (var child in node.Children.OrderBy(c => c.Compare).ThenBy(c => c.Base).ThenByDescending(c => c.Name, StringComparer.Ordinal))
                pending.Push((child, id));
        }
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.Default }))
        {
            json.WriteStartObject();
            json.WriteNumber("baseSamples", diff.BaseSamples);
            json.WriteNumber("compareSamples", diff.CompareSamples);
            json.WriteStartArray("names");
            foreach (var n in names) json.WriteStringValue(n);
            json.WriteEndArray();
            json.WriteStartObject("nodes");
            Array(json, "parent", parent.Select(p => (long)p));
            Array(json, "name", name.Select(n => (long)n));
            Array(json, "base", baseCounts);
            Array(json, "compare", compare);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        var text = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        return text.AsSpan().IndexOfAny("<>&") >= 0 ? throw new InvalidOperationException("diff data is not safe to embed in HTML") : text;
    }

    static void Array(Utf8JsonWriter json, string name, IEnumerable<long> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }
}
