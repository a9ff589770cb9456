using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// A machine-readable summary of one session, documented in docs/json-report.md. The shape is a contract: fields are
/// only ever added, and <see cref="FormatVersion"/> changes if one has to change meaning or go away.
/// Written with <see cref="Utf8JsonWriter"/> rather than serialized records so the field order and names are exactly
/// what the document says, whatever the serializer's defaults become.
/// </summary>
public static class JsonReportWriter
{
    /// <summary>
    /// 2: totals leave idle thread-pool samples out unless asked for; threads carry states and CPU time.
    /// 3: layers (overall, per thread, over time), session.focus and view.focus / view.layers / view.layerRules.
    /// 4: CPU between samples on a frame of its own, view.cpuRule; since added: internalErrors, overhead, locks.
    /// </summary>
    public const int FormatVersion = 4;

    /// <summary>Default number of functions taken from each ranking (by self and by total).</summary>
    public const int DefaultTop = 100;

    /// <summary>Default share of all samples under which call tree nodes are left out.</summary>
    public const double DefaultTreeMinPercent = 0.1;

    public static void Write(Profile profile, TextWriter output, ReportOptions? options = null, int top = DefaultTop, double treeMinPercent = DefaultTreeMinPercent)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var buffer = new MemoryStream();
        Write(profile, buffer, options, top, treeMinPercent);
        output.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    public static void Write(Profile profile, Stream output, ReportOptions? options = null, int top = DefaultTop, double treeMinPercent = DefaultTreeMinPercent)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(output);
        options ??= ReportOptions.Default;
        var whole = profile;
        profile = ProfileFilter.Select(profile, options, out var focus);
        var analysis = ProfileAnalysis.Analyze(profile, treeMinPercent, options.IncludeIdle, options.LayerRules);
        var writerOptions = new JsonWriterOptions
        {
            Indented = true,
            NewLine = "\n", // the same bytes on every OS
            // Only what JSON itself requires is escaped, so .NET names read as they are: List`1, <Main>d__0.MoveNext.
            // This file is data for parsers and people, never inlined into a page (the HTML report embeds its own,
            // fully escaped JSON), which is the case the "unsafe" in the name warns about.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        using (var json = new Utf8JsonWriter(output, writerOptions))
        {
            json.WriteStartObject();
            json.WriteNumber("formatVersion", FormatVersion);
            WriteSession(json, profile, options);
            WriteSessions(json, profile);
            WriteLimits(json, top, treeMinPercent);
            WriteView(json, analysis, options, focus);
            WriteLayers(json, analysis);
            WriteThreads(json, analysis);
            LockContentionJson.Write(json, LockContention.InReport(whole, profile, analysis, options.IncludeIdle));
            WriteFunctions(json, analysis, top);
            WriteCallTree(json, analysis, treeMinPercent);
            json.WriteEndObject();
        }
        output.WriteByte((byte)'\n');
    }

    static void WriteSession(Utf8JsonWriter json, Profile profile, ReportOptions options)
    {
        var session = profile.Session;
        var target = session.Target;
        var facts = SessionFacts.Of(profile);
        json.WriteStartObject("session");
        json.WriteNumber("id", session.Id);
        json.WriteNumber("pid", target.Pid);
        json.WriteString("processName", target.ProcessName);
        json.WriteString("commandLine", options.CommandLine(target));
        json.WriteString("runtimeVersion", target.RuntimeVersion);
        json.WriteString("host", target.Host);
        json.WriteString("engine", target.Engine);
        json.WriteString("architecture", target.Architecture);
        json.WriteString("startedUtc", ReportFormat.IsoUtc(session.StartedUtc));
        if (session.EndedUtc is { } ended) json.WriteString("endedUtc", ReportFormat.IsoUtc(ended));
        else json.WriteNull("endedUtc");
        json.WriteString("endReason", session.EndReason.ToString());
        json.WriteString("endMessage", session.EndMessage);
        json.WriteNumber("snapshots", facts.Snapshots);
        json.WriteNumber("lateSnapshots", session.LateCount);
        json.WriteNumber("failedSnapshots", session.FailedCount);
        json.WriteNumber("samples", facts.Samples);
        json.WriteNumber("requestedRate", target.RequestedRate);
        json.WriteNumber("achievedRate", Math.Round(facts.AchievedRate, 3));
        json.WriteNumber("maxFrames", target.MaxFrames);
        json.WriteString("snapperCommandLine", target.SnapperCommandLine);
        json.WriteStartObject("pause");
        json.WriteNumber("p50Us", facts.Pause.P50Us);
        json.WriteNumber("p99Us", facts.Pause.P99Us);
        json.WriteNumber("maxUs", facts.Pause.MaxUs);
        json.WriteEndObject();
        WriteFocus(json, session.Focus);
        WriteOverhead(json, session.Overhead, target.RequestedRate);
        json.WriteStartArray("internalErrors");
        foreach (var error in session.InternalErrors)
        {
            json.WriteStartObject();
            json.WriteString("reason", error.Reason);
            json.WriteNumber("count", error.Count);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Shares of the capture's wall time (0.024 for 2.4%); null for a session that did not measure them.</summary>
    static void WriteOverhead(Utf8JsonWriter json, OverheadRecord? overhead, double requestedRate)
    {
        if (overhead is null)
        {
            json.WriteNull("overhead");
            return;
        }
        json.WriteStartObject("overhead");
        if (overhead.Budget is { } budget) json.WriteNumber("budget", budget);
        else json.WriteNull("budget");
        json.WriteNumber("overhead", Math.Round(overhead.Overhead, 5));
        json.WriteNumber("pauseShare", Math.Round(overhead.PauseShare, 5));
        json.WriteNumber("cpuShare", Math.Round(overhead.CpuShare, 5));
        json.WriteStartArray("rateChanges");
        foreach (var change in overhead.Changes)
        {
            json.WriteStartObject();
            json.WriteNumber("offsetUs", change.OffsetUs);
            json.WriteNumber("weight", change.Weight);
            json.WriteNumber("rate", Math.Round(requestedRate / change.Weight, 3));
            json.WriteNumber("pauseShare", Math.Round(change.PauseShare, 5));
            json.WriteNumber("cpuShare", Math.Round(change.CpuShare, 5));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    static void WriteFocus(Utf8JsonWriter json, FocusCounts? focus)
    {
        if (focus is null)
        {
            json.WriteNull("focus");
            return;
        }
        json.WriteStartObject("focus");
        json.WriteString("pattern", focus.Pattern);
        json.WriteNumber("seen", focus.Seen);
        json.WriteNumber("kept", focus.Kept);
        json.WriteEndObject();
    }

    static void WriteLayers(Utf8JsonWriter json, ProfileAnalysis analysis)
    {
        var layers = analysis.Layers;
        json.WriteStartObject("layers");
        json.WriteStartArray("overall");
        foreach (var layer in layers.Overall)
        {
            json.WriteStartObject();
            json.WriteString("layer", layer.Layer);
            json.WriteNumber("samples", layer.Samples);
            json.WriteNumber("percent", Math.Round(analysis.Percent(layer.Samples), 2));
            json.WriteNumber("cpuNs", layer.CpuNs);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteNumber("bucketUs", layers.BucketUs);
        json.WriteStartArray("overTime");
        for (var b = 0; b < layers.OverTime.Count; b++)
        {
            json.WriteStartObject();
            json.WriteNumber("startUs", b * layers.BucketUs);
            WriteLayerCounts(json, "samples", layers.Layers, layers.OverTime[b]);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>{"sql": 12, "app": 3}: the layers with samples only.</summary>
    static void WriteLayerCounts(Utf8JsonWriter json, string name, IReadOnlyList<string> layers, long[] counts)
    {
        json.WriteStartObject(name);
        for (var i = 0; i < layers.Count; i++)
            if (counts[i] > 0) json.WriteNumber(layers[i], counts[i]);
        json.WriteEndObject();
    }

    /// <summary>The captures the profile holds: one, or several for an aggregated report (then "session" sums them up).</summary>
    static void WriteSessions(Utf8JsonWriter json, Profile profile)
    {
        json.WriteStartArray("sessions");
        foreach (var session in profile.Sessions)
        {
            json.WriteStartObject();
            json.WriteNumber("id", session.Id);
            json.WriteNumber("pid", session.Target.Pid);
            json.WriteString("startedUtc", ReportFormat.IsoUtc(session.StartedUtc));
            if (session.EndedUtc is { } ended) json.WriteString("endedUtc", ReportFormat.IsoUtc(ended));
            else json.WriteNull("endedUtc");
            json.WriteNumber("snapshots", session.SnapshotCount);
            json.WriteNumber("samples", session.SampleCount);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    static void WriteLimits(Utf8JsonWriter json, int top, double treeMinPercent)
    {
        json.WriteStartObject("limits");
        json.WriteNumber("topFunctions", top);
        json.WriteNumber("callTreeMinPercent", treeMinPercent);
        json.WriteEndObject();
    }

    static void WriteView(Utf8JsonWriter json, ProfileAnalysis analysis, ReportOptions options, FocusCounts? focus)
    {
        json.WriteStartObject("view");
        json.WriteBoolean("includeIdle", options.IncludeIdle);
        json.WriteString("threads", options.Threads?.Pattern);
        WriteFocus(json, focus);
        if (options.Layers is { } filter)
        {
            json.WriteStartArray("layers");
            foreach (var layer in filter.Order(StringComparer.Ordinal)) json.WriteStringValue(layer);
            json.WriteEndArray();
        }
        else json.WriteNull("layers");
        json.WriteString("layerRules", options.LayerRules.UserFile);
        json.WriteNumber("samples", analysis.TotalSamples);
        json.WriteNumber("cpuNs", analysis.TotalCpuNs);
        json.WriteString("cpuRule", BetweenSamples.Rule);
        json.WriteNumber("hiddenIdleSamples", analysis.HiddenIdleSamples);
        json.WriteEndObject();
    }

    static void WriteThreads(Utf8JsonWriter json, ProfileAnalysis analysis)
    {
        json.WriteStartArray("threads");
        foreach (var stats in analysis.Threads)
        {
            var thread = stats.Thread;
            json.WriteStartObject();
            json.WriteNumber("id", thread.Id);
            json.WriteNumber("osThreadId", thread.OsThreadId);
            json.WriteNumber("managedThreadId", thread.ManagedThreadId);
            json.WriteString("name", thread.Name);
            json.WriteString("osName", thread.OsName);
            json.WriteString("role", thread.Role);
            json.WriteString("label", thread.Label);
            json.WriteNumber("samples", stats.Samples);
            json.WriteNumber("cpuNs", stats.CpuNs);
            json.WriteStartObject("states");
            foreach (var state in SampleStates.All) json.WriteNumber(state.Name(), stats.SamplesIn(state));
            json.WriteEndObject();
            WriteLayerCounts(json, "layers", analysis.Layers.Layers, analysis.Layers.Of(thread.Id));
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>
    /// The union of the top N by self samples, by total samples and by self CPU, so callers (high total, no self) and
    /// the CPU-heavy are not lost.
    /// </summary>
    static void WriteFunctions(Utf8JsonWriter json, ProfileAnalysis analysis, int top)
    {
        var chosen = analysis.TopBySelf(top).Concat(analysis.TopByTotal(top)).Concat(analysis.TopBySelfCpu(top)).Select(f => f.Method).ToHashSet();
        json.WriteStartArray("topFunctions");
        foreach (var f in analysis.Functions.Where(f => chosen.Contains(f.Method)))
        {
            json.WriteStartObject();
            json.WriteString("name", f.Method.DisplayName);
            json.WriteString("kind", KindName(f.Method.Kind));
            json.WriteString("category", CategoryName(f.Method.Category));
            json.WriteString("module", f.Method.Module);
            json.WriteString("typeName", f.Method.TypeName);
            json.WriteString("methodName", f.Method.MethodName);
            json.WriteNumber("self", f.Self);
            json.WriteNumber("total", f.Total);
            json.WriteNumber("selfCpuNs", f.SelfCpuNs);
            json.WriteNumber("totalCpuNs", f.TotalCpuNs);
            json.WriteStartArray("lines");
            foreach (var line in analysis.LinesOf(f.Method))
            {
                json.WriteStartObject();
                json.WriteString("file", line.File);
                json.WriteNumber("line", line.Line);
                json.WriteNumber("self", line.Self);
                json.WriteNumber("total", line.Total);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>
    /// Flat, in pre-order, each node naming its parent: real stacks are often deeper than the 64 levels common JSON
    /// readers accept by default, and a flat list is as easy to rebuild as to filter.
    /// </summary>
    static void WriteCallTree(Utf8JsonWriter json, ProfileAnalysis analysis, double minPercent)
    {
        json.WriteStartArray("callTree");
        var nextId = 0;
        var pending = new Stack<(CallTreeNode Node, int Parent)>();
        pending.Push((analysis.CallTree, -1));
        while (pending.Count > 0)
        {
            var (node, parent) = pending.Pop();
            var id = nextId++;
            json.WriteStartObject();
            json.WriteNumber("id", id);
            if (parent < 0) json.WriteNull("parent");
            else json.WriteNumber("parent", parent);
            json.WriteNumber("depth", node.Depth);
            json.WriteString("kind", node.Kind switch
            {
                CallTreeNodeKind.Root => "root",
                CallTreeNodeKind.Thread => "thread",
                _ => KindName(node.Method!.Value.Kind),
            });
            json.WriteString("category", node.Method is { } method ? CategoryName(method.Category) : null);
            json.WriteString("name", node.Name);
            json.WriteString("module", node.Method?.Module);
            if (node.Thread is { } thread) json.WriteNumber("threadId", thread.Id);
            else json.WriteNull("threadId");
            json.WriteNumber("total", node.Total);
            json.WriteNumber("self", node.Self);
            json.WriteNumber("totalCpuNs", node.TotalCpuNs);
            json.WriteNumber("selfCpuNs", node.SelfCpuNs);
            json.WriteEndObject();
            for (var i = node.Children.Count - 1; i >= 0; i--)
            {
                var child = node.Children[i];
                if (Shown(analysis, child, minPercent)) pending.Push((child, id));
            }
        }
        json.WriteEndArray();
    }

    /// <summary>A node is listed when its share of samples or of CPU time reaches the threshold.</summary>
    internal static bool Shown(ProfileAnalysis analysis, CallTreeNode node, double minPercent) =>
        (node.Total > 0 || node.TotalCpuNs > 0)
        && (analysis.Percent(node.Total) >= minPercent || analysis.CpuPercent(node.TotalCpuNs) >= minPercent);

    static string KindName(FrameKind kind) => kind switch
    {
        FrameKind.Managed => "managed",
        FrameKind.Transition => "transition",
        FrameKind.Native => "native",
        _ => kind.ToString().ToLowerInvariant(),
    };

    internal static string CategoryName(FrameCategory category) => category switch
    {
        FrameCategory.Own => "own",
        FrameCategory.Framework => "framework",
        FrameCategory.Transition => "transition",
        _ => "native",
    };
}
