using System.Text.Encodings.Web;
using System.Text.Json;

namespace Snapper.Report;

/// <summary>
/// A diff for scripts: each side's sessions and sample count, every method with both shares and the changes, and
/// the top regressions and improvements by name. Shares are percent of each side's samples.
/// </summary>
public static class DiffJsonWriter
{
    public const int FormatVersion = 1;

    public static void Write(ProfileDiff diff, IReadOnlyList<long> baseSessions, IReadOnlyList<long> compareSessions, Stream output, int top = 50)
    {
        using (var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("formatVersion", FormatVersion);
            Side(json, "base", baseSessions, diff.BaseSamples);
            Side(json, "compare", compareSessions, diff.CompareSamples);
            json.WriteStartArray("functions");
            foreach (var c in diff.Functions)
            {
                json.WriteStartObject();
                json.WriteString("name", c.Method.DisplayName);
                json.WriteString("module", c.Method.Module);
                json.WriteString("category", JsonReportWriter.CategoryName(c.Method.Category));
                json.WriteNumber("baseSelf", Math.Round(c.BaseSelf, 4));
                json.WriteNumber("compareSelf", Math.Round(c.CompareSelf, 4));
                json.WriteNumber("baseTotal", Math.Round(c.BaseTotal, 4));
                json.WriteNumber("compareTotal", Math.Round(c.CompareTotal, 4));
                json.WriteNumber("selfDelta", Math.Round(c.SelfDelta, 4));
                json.WriteNumber("totalDelta", Math.Round(c.TotalDelta, 4));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            Names(json, "regressions", diff.Regressions(top));
            Names(json, "improvements", diff.Improvements(top));
            json.WriteEndObject();
        }
        output.WriteByte((byte)'\n');
    }

    static void Side(Utf8JsonWriter json, string name, IReadOnlyList<long> sessions, long samples)
    {
        json.WriteStartObject(name);
        json.WriteStartArray("sessions");
        foreach (var id in sessions) json.WriteNumberValue(id);
        json.WriteEndArray();
        json.WriteNumber("samples", samples);
        json.WriteEndObject();
    }

    static void Names(Utf8JsonWriter json, string name, IReadOnlyList<FunctionChange> changes)
    {
        json.WriteStartArray(name);
        foreach (var c in changes) json.WriteStringValue(c.Method.DisplayName);
        json.WriteEndArray();
    }
}
