using Snapper.Store;

namespace Snapper.Report;

/// <summary>One method in both profiles: its self and total shares (percent of each profile's samples) and the change.</summary>
public sealed record FunctionChange(MethodIdentity Method, double BaseSelf, double CompareSelf, double BaseTotal, double CompareTotal)
{
    /// <summary>Percentage points gained (positive: more of the time is spent here now).</summary>
    public double SelfDelta => CompareSelf - BaseSelf;
    public double TotalDelta => CompareTotal - BaseTotal;
}

/// <summary>A node of the merged call tree of both profiles (threads merged): each side's share of its samples.</summary>
public sealed class DiffNode(string name, MethodIdentity? method, DiffNode? parent)
{
    readonly Dictionary<MethodIdentity, DiffNode> _children = new();

    public string Name { get; } = name;
    public MethodIdentity? Method { get; } = method;
    public DiffNode? Parent { get; } = parent;
    public long Base { get; internal set; }
    public long Compare { get; internal set; }
    public IEnumerable<DiffNode> Children => _children.Values;

    internal DiffNode Child(MethodIdentity method)
    {
        if (!_children.TryGetValue(method, out var child))
            _children[method] = child = new DiffNode(method.DisplayName, method, this);
        return child;
    }
}

/// <summary>
/// What changed between two sets of captures, per function and per call path. Shares are normalised by each side's
/// sample count, so a base of 1,000 samples compares with a 5,000-sample capture: "Parse went from 12% to 30% of
/// the time" is the answer, not "Parse has five times the samples".
/// </summary>
public sealed class ProfileDiff
{
    ProfileDiff(long baseSamples, long compareSamples, IReadOnlyList<FunctionChange> functions, DiffNode root)
    {
        BaseSamples = baseSamples;
        CompareSamples = compareSamples;
        Functions = functions;
        Root = root;
    }

    public long BaseSamples { get; }
    public long CompareSamples { get; }

    /// <summary>Every method seen on either side, largest change in total share first.</summary>
    public IReadOnlyList<FunctionChange> Functions { get; }

    public DiffNode Root { get; }

    /// <summary>Methods whose share grew the most (by self, then total), at least <paramref name="minPoints"/> percentage points.</summary>
    public IReadOnlyList<FunctionChange> Regressions(int count, double minPoints = 0.1) =>
        Functions.Where(f => Math.Max(f.SelfDelta, f.TotalDelta) >= minPoints)
            .OrderByDescending(f => f.SelfDelta).ThenByDescending(f => f.TotalDelta).Take(count).ToList();

    /// <summary>Methods whose share shrank the most.</summary>
    public IReadOnlyList<FunctionChange> Improvements(int count, double minPoints = 0.1) =>
        Functions.Where(f => Math.Min(f.SelfDelta, f.TotalDelta) <= -minPoints)
            .OrderBy(f => f.SelfDelta).ThenBy(f => f.TotalDelta).Take(count).ToList();

    public static ProfileDiff Compute(Profile baseProfile, Profile compareProfile, ReportOptions options)
    {
        var before = ProfileAnalysis.Analyze(ProfileFilter.SelectThreads(baseProfile, options.Threads), treeMinPercent: 100, options.IncludeIdle);
        var after = ProfileAnalysis.Analyze(ProfileFilter.SelectThreads(compareProfile, options.Threads), treeMinPercent: 100, options.IncludeIdle);
        var methods = before.Functions.Select(f => f.Method).Union(after.Functions.Select(f => f.Method)).ToList();
        var b = before.Functions.ToDictionary(f => f.Method);
        var a = after.Functions.ToDictionary(f => f.Method);
        var changes = methods.Select(m => new FunctionChange(m,
                before.Percent(b.GetValueOrDefault(m)?.Self ?? 0), after.Percent(a.GetValueOrDefault(m)?.Self ?? 0),
                before.Percent(b.GetValueOrDefault(m)?.Total ?? 0), after.Percent(a.GetValueOrDefault(m)?.Total ?? 0)))
            .OrderByDescending(c => Math.Abs(c.TotalDelta)).ThenByDescending(c => Math.Abs(c.SelfDelta))
            .ThenBy(c => c.Method.DisplayName, StringComparer.Ordinal).ToList();

        var root = new DiffNode("all threads", null, null);
        Add(root, ProfileFilter.Apply(baseProfile, options), isBase: true);
        Add(root, ProfileFilter.Apply(compareProfile, options), isBase: false);
        return new ProfileDiff(before.TotalSamples, after.TotalSamples, changes, root);
    }

    static void Add(DiffNode root, Profile profile, bool isBase)
    {
        var methods = new MethodTable(profile);
        var paths = new Dictionary<int, MethodIdentity[]>();
        foreach (var sample in profile.Samples)
        {
            if (sample.Wall == 0) continue; // the diff compares samples; CPU used between snapshots is none
            if (!paths.TryGetValue(sample.StackId, out var path))
            {
                var ids = new List<int>();
                for (var id = sample.StackId; id != 0;) ids.Add(methods.MethodOfStack(id, out id));
                ids.Reverse();
                paths[sample.StackId] = path = ids.Select(i => methods[i]).ToArray();
            }
            var node = root;
            Count(node, isBase, sample.Wall);
            foreach (var method in path)
            {
                node = node.Child(method);
                Count(node, isBase, sample.Wall);
            }
        }
    }

    /// <summary>Adds a sample's weight (see <see cref="Sample.Wall"/>): shares stay right across rates.</summary>
    static void Count(DiffNode node, bool isBase, int weight)
    {
        if (isBase) node.Base += weight;
        else node.Compare += weight;
    }
}
