using System.IO.Compression;
using Google.Protobuf;
using Snapper.Report.Export.Pprof;
using Snapper.Store;
using Pb = Perftools.Profiles;

namespace Snapper.Report.Export;

/// <summary>
/// pprof's profile.proto, gzip-compressed, as <c>go tool pprof</c> and every pprof viewer read it. Sample types are
/// <c>samples/count</c>, then one per <see cref="SampleWeight"/> (<c>wall/nanoseconds</c>, and <c>cpu/nanoseconds</c>
/// where the store has CPU time); wall is the default and the period type. A sample is one distinct
/// (thread, stack) with the thread as labels <c>thread</c> (its label) and <c>thread_id</c> (the OS thread id). A
/// location is a method at a source line, a function a method (name, module-qualified system name, source file), so
/// pprof groups per method by default and per line with <c>-lines</c>.
/// </summary>
sealed class PprofExporter(string exporter) : IProfileExporter
{
    public string FileExtension => ".pb.gz";
    public bool IsText => false;

    public void Write(Profile profile, Stream output)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(output);
        var message = new Builder(profile).Build(exporter);
        using var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
        message.WriteTo(gzip);
    }

    /// <summary>One export's tables: strings, functions and locations, each interned with ids from 1 (0 means none in pprof).</summary>
    sealed class Builder(Profile profile)
    {
        readonly ExportProfile _export = new(profile);
        readonly Dictionary<MethodIdentity, MethodSource> _sources = MethodSource.Of(profile);
        readonly PprofStrings _strings = new();
        readonly Pb.Profile _message = new();
        readonly Dictionary<int, ulong> _functions = new();
        readonly Dictionary<(int Method, int Line), ulong> _locations = new();
        readonly Dictionary<int, ulong[]> _stackLocations = new();

        public Pb.Profile Build(string exporter)
        {
            var weights = _export.Weights;
            _message.SampleType.Add(ValueType("samples", "count"));
            foreach (var weight in weights) _message.SampleType.Add(ValueType(weight.Type, weight.Unit));
            if (weights.Count > 0)
            {
                _message.PeriodType = ValueType(weights[0].Type, weights[0].Unit);
                _message.Period = SamplingPeriod.Nanoseconds(profile);
                _message.DefaultSampleType = _strings[weights[0].Type];
            }
            foreach (var thread in _export.Threads) AddSamples(thread);

            var session = profile.Session;
            _message.TimeNanos = (session.StartedUtc - DateTime.UnixEpoch).Ticks * TimeSpan.NanosecondsPerTick;
            _message.DurationNanos = DurationNanos(profile);
            _message.Comment.Add(_strings[exporter]);
            _message.Comment.Add(_strings[ExportProfile.SessionTitle(profile)]);
            _message.StringTable.Add(_strings.Table);
            return _message;
        }

        /// <summary>One pprof sample per distinct stack of the thread, its values summed over the thread's samples of it.</summary>
        void AddSamples(ThreadSamples thread)
        {
            var values = new Dictionary<int, long[]>();
            var order = new List<int>();
            foreach (var sample in thread.Samples)
            {
                if (!values.TryGetValue(sample.StackId, out var sums))
                {
                    values[sample.StackId] = sums = new long[1 + _export.Weights.Count];
                    order.Add(sample.StackId);
                }
                sums[0] += sample.Wall;
                var weights = _export.WeightsOf(sample);
                for (var w = 0; w < weights.Length; w++) sums[1 + w] += weights[w];
            }
            foreach (var stackId in order)
            {
                var sample = new Pb.Sample();
                sample.LocationId.Add(LocationsOf(stackId));
                sample.Value.Add(values[stackId]);
                sample.Label.Add(new Pb.Label { Key = _strings["thread"], Str = _strings[thread.Thread.Label] });
                sample.Label.Add(new Pb.Label { Key = _strings["thread_id"], Num = thread.Thread.OsThreadId });
                _message.Sample.Add(sample);
            }
        }

        /// <summary>The stack's locations leaf first, as pprof orders them (the store links each node to its caller).</summary>
        ulong[] LocationsOf(int stackId)
        {
            if (_stackLocations.TryGetValue(stackId, out var known)) return known;
            var locations = new List<ulong>();
            for (var id = stackId; id != 0;)
            {
                var node = id;
                var method = _export.Methods.MethodOfStack(id, out id);
                var line = profile.Stacks.TryGetValue(node, out var stack) && profile.Frames.TryGetValue(stack.FrameId, out var frame) ? frame.Line : 0;
                locations.Add(LocationOf(method, Math.Max(0, line)));
            }
            return _stackLocations[stackId] = locations.ToArray();
        }

        ulong LocationOf(int method, int line)
        {
            if (_locations.TryGetValue((method, line), out var id)) return id;
            id = (ulong)_locations.Count + 1;
            _locations[(method, line)] = id;
            var location = new Pb.Location { Id = id };
            location.Line.Add(new Pb.Line { FunctionId = FunctionOf(method), Line_ = line });
            _message.Location.Add(location);
            return id;
        }

        ulong FunctionOf(int method)
        {
            if (_functions.TryGetValue(method, out var id)) return id;
            id = (ulong)_functions.Count + 1;
            _functions[method] = id;
            var identity = _export.Methods[method];
            _message.Function.Add(new Pb.Function
            {
                Id = id,
                Name = _strings[identity.DisplayName],
                SystemName = _strings[identity.Module.Length == 0 ? identity.DisplayName : identity.Module + "!" + identity.DisplayName],
                Filename = _strings[_sources.TryGetValue(identity, out var source) ? source.File : ""],
            });
            return id;
        }

        Pb.ValueType ValueType(string type, string unit) => new() { Type = _strings[type], Unit = _strings[unit] };

        /// <summary>Start to end of the capture, or to the last snapshot for a session with no recorded end.</summary>
        static long DurationNanos(Profile profile)
        {
            var session = profile.Session;
            if (session.EndedUtc is { } ended) return Math.Max(0, (ended - session.StartedUtc).Ticks) * TimeSpan.NanosecondsPerTick;
            return profile.Snapshots.Count == 0 ? 0 : profile.Snapshots[^1].OffsetUs * 1000;
        }
    }
}
