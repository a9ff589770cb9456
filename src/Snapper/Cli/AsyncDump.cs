using System.Globalization;
using System.Text;
using System.Text.Json;
using Snapper.Report;
using Snapper.Sampling.Async;

namespace Snapper.Cli;

/// <summary>
/// The pending async work of <c>snapper dump --async</c>: the chains of awaiting async methods found on the heap, grouped
/// by what they wait for, each chain innermost first (as the thread stacks above it are), async frames marked
/// <c>[async]</c>. Says how much of the heap was walked, and marks a walk cut short by its budget as partial.
/// </summary>
public sealed class AsyncDump(PendingAsyncHeap heap)
{
    readonly IReadOnlyList<AsyncChain> _chains = AsyncChains.Build(heap.Pending);
    IReadOnlyList<AwaitGroup>? _groups;

    public IReadOnlyList<AwaitGroup> Groups => _groups ??= AwaitGroups.Of(_chains);

    HeapWalkCoverage Coverage => heap.Coverage;

    public void WriteText(StringBuilder text)
    {
        text.Append("\nPending async work (--async): ");
        if (heap.Failure is { } failure)
        {
            text.Append("not read: ").Append(TerminalText.Clean(failure)).Append(". The threads above are whole.\n");
            return;
        }
        if (!Coverage.Walkable)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"not read: the heap could not be walked at this stop (a garbage collection was under way); heap {Megabytes(Coverage.HeapBytes)} MB. Try again.\n");
            return;
        }
        text.Append(CultureInfo.InvariantCulture, $"{_chains.Count} chains waiting, in {Groups.Count} groups; {Coverage.TasksSeen - Coverage.CompletedLeftOut} tasks pending, {Coverage.CompletedLeftOut} completed left out\n");
        text.Append(CultureInfo.InvariantCulture, $"  {WalkSummary()}\n");
        if (!Coverage.Complete)
            text.Append(CultureInfo.InvariantCulture,
                $"  PARTIAL: the --async-budget ({Coverage.Budget.TotalMilliseconds:0} ms) ran out after {Percent(Coverage.BytesWalked, Coverage.HeapBytes)}% of the heap: only chains found in that part are listed, some may be cut short\n");
        text.Append("  innermost first; [async] marks an async method, with the await it is suspended at (state N; -1: running)\n");
        foreach (var group in Groups)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n{TerminalText.Clean(group.Label)}: {group.Chains} {(group.Chains == 1 ? "chain" : "chains")}\n");
            foreach (var (chain, count) in group.Distinct)
            {
                text.Append(CultureInfo.InvariantCulture, $"  {count} x awaiting {TerminalText.Clean(LeafText(chain.Leaf))}\n");
                foreach (var frame in chain.Frames) text.Append("    ").Append(FrameText(frame)).Append('\n');
            }
        }
    }

    string WalkSummary() => string.Create(CultureInfo.InvariantCulture,
        $"heap walked {(Coverage.Complete ? "whole" : "in part")}: {Coverage.ObjectsWalked:N0} objects, {Megabytes(Coverage.BytesWalked)} of {Megabytes(Coverage.HeapBytes)} MB in {Coverage.Elapsed.TotalMilliseconds:0.0} ms ({Coverage.ReadingPending.TotalMilliseconds:0.0} of them reading the pending tasks), the target held meanwhile (budget {Coverage.Budget.TotalMilliseconds:0} ms)");

    static string LeafText(AwaitedObject? leaf) => leaf is null ? "nothing (no awaiter set)"
        : leaf.Detail is { } detail ? $"{leaf.TypeName} ({detail})" : leaf.TypeName;

    static string FrameText(AsyncFrame frame) => frame.State is { } state
        ? string.Create(CultureInfo.InvariantCulture, $"[async] {TerminalText.Clean(frame.Name)} (state {state})")
        : $"[task] {TerminalText.Clean(frame.Name)}";

    static string Megabytes(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);

    static string Percent(long part, long whole) => whole <= 0 ? "0" : (100.0 * part / whole).ToString("0", CultureInfo.InvariantCulture);

    /// <summary>The "async" object of the dump's JSON (see docs/json-report.md, "snapper dump").</summary>
    public void WriteJson(Utf8JsonWriter json)
    {
        json.WriteStartObject("async");
        json.WriteBoolean("walkable", Coverage.Walkable);
        json.WriteBoolean("complete", Coverage.Complete && heap.Failure is null);
        if (heap.Failure is { } failure) json.WriteString("error", failure);
        json.WriteNumber("budgetMs", Math.Round(Coverage.Budget.TotalMilliseconds, 3));
        json.WriteNumber("walkMs", Math.Round(Coverage.Elapsed.TotalMilliseconds, 3));
        json.WriteNumber("readingPendingMs", Math.Round(Coverage.ReadingPending.TotalMilliseconds, 3));
        json.WriteNumber("objectsWalked", Coverage.ObjectsWalked);
        json.WriteNumber("bytesWalked", Coverage.BytesWalked);
        json.WriteNumber("heapBytes", Coverage.HeapBytes);
        json.WriteNumber("tasksSeen", Coverage.TasksSeen);
        json.WriteNumber("completedLeftOut", Coverage.CompletedLeftOut);
        json.WriteNumber("chains", _chains.Count);
        json.WriteStartArray("groups");
        foreach (var group in Groups)
        {
            json.WriteStartObject();
            json.WriteString("kind", KindName(group.Kind));
            json.WriteString("awaits", group.Label);
            json.WriteNumber("chains", group.Chains);
            json.WriteStartArray("distinct");
            foreach (var (chain, count) in group.Distinct) WriteChain(json, chain, count);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    static void WriteChain(Utf8JsonWriter json, AsyncChain chain, int count)
    {
        json.WriteStartObject();
        json.WriteNumber("count", count);
        if (chain.Leaf is { } leaf)
        {
            json.WriteStartObject("leaf");
            json.WriteString("type", leaf.TypeName);
            if (leaf.Detail is { } detail) json.WriteString("detail", detail);
            json.WriteEndObject();
        }
        else json.WriteNull("leaf");
        json.WriteStartArray("frames"); // innermost first
        foreach (var frame in chain.Frames)
        {
            json.WriteStartObject();
            json.WriteBoolean("async", frame.IsAsyncMethod);
            json.WriteString("method", frame.Name);
            json.WriteString("type", frame.TypeName);
            if (frame.State is { } state) json.WriteNumber("state", state);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    static string KindName(AwaitKind kind) => kind switch
    {
        AwaitKind.HttpClient => "http-client",
        AwaitKind.Delay => "delay",
        AwaitKind.Socket => "socket",
        AwaitKind.Semaphore => "semaphore",
        AwaitKind.Running => "running",
        _ => "other",
    };
}
