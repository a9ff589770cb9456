using System.Globalization;
using System.Text;
using System.Text.Json;
using Snapper.Report;
using Snapper.Sampling;
using Snapper.Store;

namespace Snapper.Cli;

/// <summary>
/// One snapshot of every thread, as <c>snapper dump</c> prints it: each thread with its name, state and innermost frame
/// first (as py-spy dump and dotnet-stack print them), and, for a thread entering a lock, the lock and the thread that
/// holds it. Threads are listed in thread id order (the order they started in). The process's other threads (the
/// runtime's and native libraries' own, never in managed code) follow with their kernel names and states. With
/// <c>--async</c>, the pending async work read in the same stop comes between the two (<see cref="AsyncDump"/>).
/// </summary>
public sealed class ThreadDump(TargetProcess target, string runtimeVersion, DateTime takenUtc, CapturedSnapshot snapshot,
    IReadOnlyList<NativeThread> nativeThreads, AsyncDump? pendingAsync = null)
{
    readonly Dictionary<int, ThreadStack> _byTid = snapshot.Threads.ToDictionary(t => t.OsThreadId);

    IEnumerable<ThreadStack> Threads => snapshot.Threads.OrderBy(t => t.OsThreadId);

    static string State(ThreadStack thread) =>
        SampleStateRules.Classify(thread.Frames, thread.Activity, SyscallName(thread), thread.Identity.Role, thread.Runnable).Name();

    static string? SyscallName(ThreadStack thread) => SyscallNames.Name(SyscallNames.CurrentArchitecture, thread.Syscall);

    static string NameOf(ThreadIdentity identity) => ThreadInfo.DisplayNameOf(identity.Name, identity.Role, identity.OsName, identity.ManagedThreadId);

    public string ToText()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"Process {target.Pid} ({TerminalText.Clean(target.Name)}), .NET {TerminalText.Clean(runtimeVersion)}: {snapshot.Threads.Count} managed threads at {takenUtc:yyyy-MM-dd HH:mm:ss} UTC, held {snapshot.Pause.TotalMilliseconds:0.00} ms; {nativeThreads.Count} native threads\n");
        foreach (var thread in Threads)
        {
            text.Append('\n');
            text.Append(CultureInfo.InvariantCulture, $"Thread {thread.OsThreadId} \"{TerminalText.Clean(NameOf(thread.Identity))}\"");
            if (thread.Identity.ManagedThreadId > 0) text.Append(CultureInfo.InvariantCulture, $" (managed {thread.Identity.ManagedThreadId})");
            text.Append(": ").Append(State(thread));
            if (thread.Activity == SampleActivity.Syscall && SyscallName(thread) is { } syscall) text.Append(" in ").Append(syscall);
            text.Append('\n');
            if (thread.WaitsFor is { } wait) text.Append("  ").Append(Describe(wait)).Append('\n');
            for (var i = thread.Frames.Count - 1; i >= 0; i--) text.Append("    ").Append(Describe(thread.Frames[i])).Append('\n');
        }
        pendingAsync?.WriteText(text);
        if (nativeThreads.Count == 0) return text.ToString();
        text.Append("\nNative threads (no managed frames at the stop: the runtime's and native libraries' own), as the kernel showed them right after it:\n");
        foreach (var thread in nativeThreads)
            text.Append(CultureInfo.InvariantCulture, $"Thread {thread.OsThreadId} \"{TerminalText.Clean(thread.OsName ?? "")}\": {thread.StateName}\n");
        return text.ToString();
    }

    string Describe(LockWait wait)
    {
        var what = wait.Kind == LockKind.Monitor ? $"lock on {TerminalText.Clean(wait.LockType)}" : TerminalText.Clean(wait.LockType);
        var at = string.Create(CultureInfo.InvariantCulture, $"{what} at 0x{wait.LockAddress:x}");
        var waiters = wait.Waiters is { } n ? string.Create(CultureInfo.InvariantCulture, $", {n} waiting") : "";
        // Held, but naming no holder: stopped between the two writes of a hand-over (seen on ShopService under load).
        if (wait.OwnerOsThreadId is not { } owner) return $"waiting to enter {at}: being handed over when read, no holder{waiters}";
        var ownerName = _byTid.TryGetValue(owner, out var holder) ? $" \"{TerminalText.Clean(NameOf(holder.Identity))}\" ({State(holder)})" : "";
        return string.Create(CultureInfo.InvariantCulture, $"waiting to enter {at}, held by thread {owner}{ownerName}{waiters}");
    }

    static string Describe(FrameInfo frame)
    {
        var name = TerminalText.Clean(frame.DisplayName);
        return frame.Kind switch
        {
            FrameKind.Native => $"{name} [{TerminalText.Clean(frame.Module)}]",
            _ when frame.File is { Length: > 0 } file && frame.Line > 0 => string.Create(CultureInfo.InvariantCulture, $"{name} ({TerminalText.Clean(file)}:{frame.Line})"),
            _ => name,
        };
    }

    /// <summary>The dump as JSON (see docs/json-report.md, "snapper dump").</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("pid", target.Pid);
            json.WriteString("process", target.Name);
            json.WriteString("runtime", runtimeVersion);
            json.WriteString("takenUtc", takenUtc.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            json.WriteNumber("pauseMs", Math.Round(snapshot.Pause.TotalMilliseconds, 3));
            json.WriteStartArray("threads");
            foreach (var thread in Threads) WriteThread(json, thread);
            json.WriteEndArray();
            json.WriteStartArray("nativeThreads");
            foreach (var thread in nativeThreads)
            {
                json.WriteStartObject();
                json.WriteNumber("osThreadId", thread.OsThreadId);
                WriteNullable(json, "osName", thread.OsName);
                json.WriteString("state", thread.StateName);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            pendingAsync?.WriteJson(json);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    void WriteThread(Utf8JsonWriter json, ThreadStack thread)
    {
        json.WriteStartObject();
        json.WriteNumber("osThreadId", thread.OsThreadId);
        json.WriteNumber("managedThreadId", thread.Identity.ManagedThreadId);
        WriteNullable(json, "name", thread.Identity.Name);
        WriteNullable(json, "osName", thread.Identity.OsName);
        WriteNullable(json, "role", thread.Identity.Role);
        json.WriteString("state", State(thread));
        WriteNullable(json, "syscall", thread.Activity == SampleActivity.Syscall ? SyscallName(thread) : null);
        if (thread.WaitsFor is { } wait)
        {
            json.WriteStartObject("waitsFor");
            json.WriteString("kind", wait.Kind == LockKind.Monitor ? "monitor" : "lock");
            json.WriteString("lockType", wait.LockType);
            json.WriteString("lockAddress", string.Create(CultureInfo.InvariantCulture, $"0x{wait.LockAddress:x}"));
            if (wait.OwnerOsThreadId is { } owner) json.WriteNumber("ownerOsThreadId", owner);
            else json.WriteNull("ownerOsThreadId");
            if (wait.Waiters is { } waiters) json.WriteNumber("waiters", waiters);
            json.WriteEndObject();
        }
        json.WriteStartArray("frames"); // innermost first
        for (var i = thread.Frames.Count - 1; i >= 0; i--)
        {
            var frame = thread.Frames[i];
            json.WriteStartObject();
            json.WriteString("kind", frame.Kind.ToString().ToLowerInvariant());
            json.WriteString("module", frame.Module);
            json.WriteString("type", frame.TypeName);
            json.WriteString("method", frame.MethodName);
            if (frame.File is { Length: > 0 } file)
            {
                json.WriteString("file", file);
                json.WriteNumber("line", frame.Line);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null) json.WriteNull(name);
        else json.WriteString(name, value);
    }
}

/// <summary>A thread of the process that has never run managed code, as /proc shows it.</summary>
/// <param name="State">The kernel's state letter (R, S, D, T, t, Z...).</param>
public sealed record NativeThread(int OsThreadId, string? OsName, char State)
{
    public string StateName => State switch
    {
        'R' => "running",
        'S' => "sleeping",
        'D' => "uninterruptible sleep",
        'T' or 't' => "stopped",
        'Z' or 'X' => "exiting",
        '?' => "gone",
        _ => State.ToString(),
    };
}
