using System.Text.Encodings.Web;
using System.Text.Json;
using Snapper.Store;

namespace Snapper.Report.Export;

/// <summary>
/// The Chrome trace event format (JSON object form), for chrome://tracing, Perfetto and DevTools' Performance panel:
/// the capture as a timeline, one track per thread. A sample stands for the time from its snapshot to the session's
/// next snapshot (one sampling period for the last). Consecutive samples of a thread that share the outer part of
/// their stack extend the same frames, so each frame level becomes one complete ("X") event per unbroken run, with
/// the number of samples it spans in <c>args.samples</c>. A thread missing from a snapshot, or showing no frame in
/// it, has a gap there. Timestamps are microseconds from the session start (the store's <c>offset_us</c>).
/// </summary>
sealed class ChromiumTraceExporter(string exporter) : IProfileExporter
{
    /// <summary>
    /// Added to Snapper's thread id for a thread whose OS thread id another thread of the session had already (the
    /// kernel reuses ids): above Linux's pid_max limit of 2^22, so it never collides with a real one.
    /// </summary>
    public const int ReusedThreadIdBase = 1 << 30;

    public string FileExtension => ".trace.json";
    public bool IsText => true;

    public void Write(Profile profile, Stream output)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(output);
        var export = new ExportProfile(profile);
        var pid = profile.Session.Target.Pid;
        using var events = new EventWriter(output);
        events.Metadata("process_name", pid, 0, "name", profile.Session.Target.ProcessName);
        var tids = ThreadIds(export.Threads);
        for (var t = 0; t < export.Threads.Count; t++)
        {
            events.Metadata("thread_name", pid, tids[t], "name", export.Threads[t].Thread.Label);
            events.Metadata("thread_sort_index", pid, tids[t], "sort_index", t);
        }
        var timeline = new Timeline(profile);
        for (var t = 0; t < export.Threads.Count; t++) WriteThread(export, timeline, export.Threads[t], pid, tids[t], events);
        events.End(exporter, profile);
    }

    /// <summary>The OS thread id, so tracks match what <c>top -H</c> shows; see <see cref="ReusedThreadIdBase"/> for a reused one.</summary>
    static int[] ThreadIds(IReadOnlyList<ThreadSamples> threads)
    {
        var taken = new HashSet<int>();
        return threads.Select(t => t.Thread.OsThreadId > 0 && taken.Add(t.Thread.OsThreadId)
            ? t.Thread.OsThreadId
            : ReusedThreadIdBase + t.Thread.Id).ToArray();
    }

    /// <summary>A frame level still running: its method, when it started, and how many samples it has spanned.</summary>
    sealed record OpenFrame(int Method, long StartUs)
    {
        public long Samples { get; set; }
    }

    /// <summary>A frame level's run, ready to write.</summary>
    readonly record struct Run(int Method, long StartUs, long DurationUs, int Depth, long Samples);

    static void WriteThread(ExportProfile export, Timeline timeline, ThreadSamples thread, int pid, int tid, EventWriter events)
    {
        var runs = new List<Run>();
        var open = new List<OpenFrame>();
        void CloseFrom(int level, long atUs)
        {
            for (var d = open.Count - 1; d >= level; d--)
            {
                runs.Add(new Run(open[d].Method, open[d].StartUs, atUs - open[d].StartUs, d, open[d].Samples));
                open.RemoveAt(d);
            }
        }

        var previous = -1;
        long previousEnd = 0;
        foreach (var sample in thread.Samples)
        {
            // A sample whose snapshot record is missing (a damaged store) has no time to be placed at; CPU used between
            // snapshots (see BetweenSamples) has no time of its own to span.
            if (sample.Wall == 0 || !timeline.TryPlace(sample.Sequence, out var index, out var startUs, out var endUs)) continue;
            var path = export.PathOf(sample.StackId);
            if (index != previous + 1) CloseFrom(0, previousEnd);
            var shared = 0;
            while (shared < open.Count && shared < path.Length && open[shared].Method == path[shared]) shared++;
            CloseFrom(shared, startUs);
            for (var d = open.Count; d < path.Length; d++) open.Add(new OpenFrame(path[d], startUs));
            foreach (var frame in open) frame.Samples++;
            previous = index;
            previousEnd = endUs;
        }
        CloseFrom(0, previousEnd);

        // By start, then outer first: a caller and a callee can span exactly the same time (a method that only calls
        // one other), and viewers take the first of two such events as the parent.
        runs.Sort((a, b) => a.StartUs != b.StartUs ? a.StartUs.CompareTo(b.StartUs) : a.Depth.CompareTo(b.Depth));
        foreach (var run in runs) events.Complete(export.Methods[run.Method], run.StartUs, run.DurationUs, pid, tid, run.Samples);
    }

    /// <summary>When each snapshot's samples start and end on the timeline.</summary>
    sealed class Timeline
    {
        readonly Dictionary<int, int> _indexOfSequence = new();
        readonly long[] _offsetsUs;
        readonly long _lastLengthUs;

        public Timeline(Profile profile)
        {
            _offsetsUs = profile.Snapshots.Select(s => s.OffsetUs).ToArray();
            for (var i = 0; i < profile.Snapshots.Count; i++) _indexOfSequence[profile.Snapshots[i].Sequence] = i;
            _lastLengthUs = Math.Max(1, (long)Math.Round(SamplingPeriod.Nanoseconds(profile) / 1000.0));
        }

        public bool TryPlace(int sequence, out int index, out long startUs, out long endUs)
        {
            startUs = endUs = 0;
            if (!_indexOfSequence.TryGetValue(sequence, out index)) return false;
            startUs = _offsetsUs[index];
            endUs = index + 1 < _offsetsUs.Length ? _offsetsUs[index + 1] : startUs + _lastLengthUs;
            return true;
        }
    }

    /// <summary>
    /// Writes <c>{"traceEvents":[...], ...}</c> with one event per line, so a trace can be read, grepped and diffed
    /// as text. Only what JSON requires is escaped: the file is data for trace viewers, never pasted into a page.
    /// </summary>
    sealed class EventWriter : IDisposable
    {
        static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        readonly Stream _output;
        readonly Utf8JsonWriter _json;
        bool _first = true;

        public EventWriter(Stream output)
        {
            _output = output;
            _json = new Utf8JsonWriter(output, Options);
            Raw("{\"traceEvents\":[\n");
        }

        public void Metadata(string name, int pid, int tid, string argName, string value) =>
            Event(name, "M", pid, tid, json => json.WriteString(argName, value));

        public void Metadata(string name, int pid, int tid, string argName, long value) =>
            Event(name, "M", pid, tid, json => json.WriteNumber(argName, value));

        public void Complete(MethodIdentity method, long tsUs, long durUs, int pid, int tid, long samples)
        {
            Begin();
            _json.WriteStartObject();
            _json.WriteString("name", method.DisplayName);
            _json.WriteString("cat", JsonReportWriter.CategoryName(method.Category));
            _json.WriteString("ph", "X");
            _json.WriteNumber("ts", tsUs);
            _json.WriteNumber("dur", durUs);
            _json.WriteNumber("pid", pid);
            _json.WriteNumber("tid", tid);
            _json.WriteStartObject("args");
            _json.WriteString("module", method.Module);
            _json.WriteNumber("samples", samples);
            _json.WriteEndObject();
            _json.WriteEndObject();
            _json.Flush();
        }

        void Event(string name, string phase, int pid, int tid, Action<Utf8JsonWriter> args)
        {
            Begin();
            _json.WriteStartObject();
            _json.WriteString("name", name);
            _json.WriteString("ph", phase);
            _json.WriteNumber("ts", 0);
            _json.WriteNumber("pid", pid);
            _json.WriteNumber("tid", tid);
            _json.WriteStartObject("args");
            args(_json);
            _json.WriteEndObject();
            _json.WriteEndObject();
            _json.Flush();
        }

        /// <summary>Closes the event list and adds what the format calls otherData: who wrote the trace, and of what.</summary>
        public void End(string exporter, Profile profile)
        {
            Raw("\n],\"displayTimeUnit\":\"ms\",\"otherData\":");
            _json.Reset();
            _json.WriteStartObject();
            _json.WriteString("exporter", exporter);
            _json.WriteString("session", ExportProfile.SessionTitle(profile));
            _json.WriteString("startedUtc", ReportFormat.IsoUtc(profile.Session.StartedUtc));
            _json.WriteEndObject();
            _json.Flush();
            Raw("}\n");
        }

        void Begin()
        {
            if (!_first) Raw(",\n");
            _first = false;
            _json.Reset();
        }

        void Raw(string text) => _output.Write(System.Text.Encoding.UTF8.GetBytes(text));

        public void Dispose() => _json.Dispose();
    }
}
