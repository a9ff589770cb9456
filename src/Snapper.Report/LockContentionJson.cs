using System.Text.Json;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>The JSON report's <c>locks</c> array (docs/json-report.md): field names and order are the contract.</summary>
static class LockContentionJson
{
    public static void Write(Utf8JsonWriter json, LockContention contention)
    {
        json.WriteStartArray("locks");
        foreach (var contended in contention.Locks)
        {
            var info = contended.Lock;
            json.WriteStartObject();
            json.WriteString("kind", info.Kind switch { LockKind.Monitor => "monitor", LockKind.Lock => "lock", var other => other.ToString().ToLowerInvariant() });
            json.WriteString("type", info.TypeName);
            json.WriteString("address", LockContentionText.Address(info));
            json.WriteNumber("waitSamples", contended.WaitSamples);
            json.WriteNumber("waitShare", Share(contended.WaitShare));
            json.WriteNumber("waiterThreads", contended.WaiterThreads);
            json.WriteNumber("snapshotShare", Share(contended.SnapshotShare));
            json.WriteStartArray("takenAt");
            foreach (var site in contended.TakenAt)
            {
                json.WriteStartObject();
                json.WriteString("frame", site.Frame);
                json.WriteString("file", site.File);
                if (site.File is null) json.WriteNull("line");
                else json.WriteNumber("line", site.Line);
                json.WriteNumber("samples", site.Samples);
                json.WriteNumber("share", Share(site.Share));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("owners");
            foreach (var owner in contended.Owners)
            {
                json.WriteStartObject();
                json.WriteString("thread", owner.Thread.DisplayName);
                json.WriteNumber("threadId", owner.Thread.Id);
                json.WriteNumber("samples", owner.Samples);
                json.WriteNumber("share", Share(owner.Share));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteNumber("unnamedOwnerShare", Share(contended.UnnamedOwnerShare));
            json.WriteNumber("ownerSamples", contended.OwnerSamples);
            json.WriteStartArray("ownerStacks");
            foreach (var stack in contended.OwnerStacks)
            {
                json.WriteStartObject();
                json.WriteStartArray("frames");
                foreach (var frame in stack.Frames) json.WriteStringValue(frame);
                json.WriteEndArray();
                json.WriteString("state", stack.State.Name());
                json.WriteNumber("samples", stack.Samples);
                json.WriteNumber("share", Share(stack.Share));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>A fraction (0.25 for 25%), to 5 decimals as the overhead shares.</summary>
    static double Share(double share) => Math.Round(share, 5);
}
