using Snapper.Store;
using static Snapper.Report.Tests.ProfileBuilder;

namespace Snapper.Report.Tests;

public sealed class ProfileAnalysisTests
{
    static CallTreeNode Child(CallTreeNode node, string name) =>
        Assert.Single(node.Children, c => c.Name == name);

    static FunctionStats Function(ProfileAnalysis analysis, string displayName) =>
        Assert.Single(analysis.Functions, f => f.Method.DisplayName == displayName);

    [Fact]
    public void Counts_samples_per_thread_including_empty_stacks_and_unsampled_threads()
    {
        var analysis = ProfileAnalysis.Analyze(SampleProfiles.Demo());

        // The idle pool worker's 8 samples are left out of the total, not out of the thread table.
        Assert.Equal(100, analysis.TotalSamples);
        Assert.Equal(8, analysis.HiddenIdleSamples);
        Assert.Equal([("Main", 60L), (null, 30L), ("Finalizer", 10L), (null, 8L), ("Never sampled", 0L)],
            analysis.Threads.Select(t => (t.Thread.Name, t.Samples)));
        Assert.Equal(108, ProfileAnalysis.Analyze(SampleProfiles.Demo(), includeIdle: true).TotalSamples);
    }

    [Fact]
    public void Counts_states_and_cpu_time_per_thread_and_per_function()
    {
        var analysis = ProfileAnalysis.Analyze(SampleProfiles.Demo());
        var main = analysis.Threads[0];
        Assert.Equal((55L, 5L, 535_000_000L), (main.SamplesIn(SampleState.Cpu), main.SamplesIn(SampleState.Sleep), main.CpuNs));
        Assert.Equal(536_000_000, analysis.TotalCpuNs);
        var parse = Function(analysis, "Parser.Parse");
        Assert.Equal((400_000_000L, 400_000_000L), (parse.SelfCpuNs, parse.TotalCpuNs));
        Assert.Equal(535_000_000, Function(analysis, "Program.Main").TotalCpuNs);
        Assert.Equal("Parser.Parse", analysis.TopBySelfCpu(1)[0].Method.DisplayName);
    }

    [Fact]
    public void Cpu_a_blocked_thread_used_between_snapshots_goes_to_ran_between_samples_and_counts_no_sample()
    {
        var b = new ProfileBuilder();
        var worker = b.Thread(1, "Worker");
        var busy = b.Stack(Managed("App", "Run"), Managed("App", "Crunch"));
        var waiting = b.Stack(Managed("App", "Run"), Framework("System.Threading.Monitor", "Wait"));
        b.Sample(worker, busy, count: 3, SampleState.Cpu, cpuNs: 10_000_000)
            .Sample(worker, waiting, count: 2, SampleState.Sleep, cpuNs: 4_000_000)
            .Sample(worker, waiting, count: 1, SampleState.Unknown, cpuNs: 1_000_000); // no state: nothing says it was blocked
        var analysis = ProfileAnalysis.Analyze(b.Build());

        // Wall clock: six samples, as stored. CPU: all of it, none on the blocked stack.
        Assert.Equal(6, analysis.TotalSamples);
        Assert.Equal(39_000_000, analysis.TotalCpuNs);
        var thread = Assert.Single(analysis.Threads);
        Assert.Equal((6L, 39_000_000L, 2L), (thread.Samples, thread.CpuNs, thread.SamplesIn(SampleState.Sleep)));
        var node = Assert.Single(analysis.CallTree.Children);
        var between = Child(node, BetweenSamples.FrameName);
        Assert.Equal((0L, 8_000_000L), (between.Total, between.TotalCpuNs));
        var wait = Child(Child(node, "App.Run"), "System.Threading.Monitor.Wait");
        Assert.Equal((3L, 1_000_000L), (wait.Total, wait.TotalCpuNs));
        Assert.Equal((3L, 30_000_000L), (Child(Child(node, "App.Run"), "App.Crunch").Total, Child(Child(node, "App.Run"), "App.Crunch").TotalCpuNs));
        Assert.Equal("between-samples", Assert.Single(analysis.Layers.Overall, l => l.CpuNs == 8_000_000).Layer);
    }

    [Fact]
    public void Call_tree_has_one_node_per_thread_then_frames_outermost_first()
    {
        var tree = ProfileAnalysis.Analyze(SampleProfiles.Demo()).CallTree;

        Assert.Equal(CallTreeNodeKind.Root, tree.Kind);
        Assert.Equal((100L, 0L), (tree.Total, tree.Self));
        Assert.Equal(["Main (tid 1001)", "Thread 9 (tid 2077)", "Finalizer (tid 1003)"], tree.Children.Select(c => c.Name));

        var main = Child(tree, "Main (tid 1001)");
        Assert.Equal(CallTreeNodeKind.Thread, main.Kind);
        Assert.Equal((60L, 0L), (main.Total, main.Self));
        var run = Child(Child(main, "Program.Main"), "Server.Run");
        Assert.Equal((60L, 5L), (run.Total, run.Self));
        Assert.Equal(3, run.Depth); // root 0, thread 1, Program.Main 2

        // Handle was seen on lines 10 and 12: one node, as in the function list.
        var handle = Child(run, "Server.Handle");
        Assert.Equal((55L, 0L), (handle.Total, handle.Self));
        var parse = Child(handle, "Parser.Parse");
        Assert.Equal((40L, 30L), (parse.Total, parse.Self));
        var recursive = Child(Child(parse, "Parser.Parse"), "Parser.Parse");
        Assert.Equal((10L, 10L), (recursive.Total, recursive.Self));
        Assert.Equal((15L, 15L), (Child(handle, "System.Collections.Generic.List`1.Sort").Total, Child(handle, "System.Collections.Generic.List`1.Sort").Self));
    }

    [Fact]
    public void Empty_stacks_count_as_self_of_their_thread()
    {
        var idle = Child(ProfileAnalysis.Analyze(SampleProfiles.Demo()).CallTree, "Finalizer (tid 1003)");

        Assert.Equal((10L, 10L), (idle.Total, idle.Self));
        Assert.Empty(idle.Children);
    }

    [Fact]
    public void Totals_equal_self_plus_children_everywhere()
    {
        var pending = new Stack<CallTreeNode>([ProfileAnalysis.Analyze(SampleProfiles.Service(200)).CallTree]);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            Assert.Equal(node.Total, node.Self + node.Children.Sum(c => c.Total));
            foreach (var child in node.Children) pending.Push(child);
        }
    }

    [Fact]
    public void Functions_count_self_at_the_leaf_and_total_once_per_sample_even_when_recursive()
    {
        var analysis = ProfileAnalysis.Analyze(SampleProfiles.Demo());

        var parse = Function(analysis, "Parser.Parse");
        Assert.Equal((40L, 40L), (parse.Self, parse.Total)); // 10 samples have Parse three times: still 10, not 30
        Assert.Equal((0L, 55L), (Function(analysis, "Server.Handle").Self, Function(analysis, "Server.Handle").Total));
        Assert.Equal((5L, 60L), (Function(analysis, "Server.Run").Self, Function(analysis, "Server.Run").Total));
        Assert.Equal((20L, 20L), (Function(analysis, "__libc_read").Self, Function(analysis, "__libc_read").Total));
        Assert.Equal(40.0, analysis.Percent(parse.Self));
        Assert.Single(analysis.Functions, f => f.Method.MethodName == "Handle"); // lines 10 and 12 grouped
    }

    [Fact]
    public void Rankings_are_by_self_and_by_total()
    {
        var analysis = ProfileAnalysis.Analyze(SampleProfiles.Demo());

        Assert.Equal(["Parser.Parse", "__libc_read", "System.Collections.Generic.List`1.Sort"],
            analysis.TopBySelf(3).Select(f => f.Method.DisplayName));
        // Run and Main tie on total; Run has more self samples.
        Assert.Equal(["Server.Run", "Program.Main", "Server.Handle"], analysis.TopByTotal(3).Select(f => f.Method.DisplayName));
    }

    [Fact]
    public void Frame_categories_tell_own_code_from_framework_transition_and_native()
    {
        var categories = ProfileAnalysis.Analyze(SampleProfiles.Demo()).Functions
            .ToDictionary(f => f.Method.DisplayName, f => f.Method.Category);

        Assert.Equal(FrameCategory.Own, categories["Parser.Parse"]);
        Assert.Equal(FrameCategory.Framework, categories["System.Threading.Monitor.Wait"]);
        Assert.Equal(FrameCategory.Transition, categories["[PInvoke] read"]);
        Assert.Equal(FrameCategory.Native, categories["__libc_read"]);
    }

    [Fact]
    public void Missing_frames_and_threads_are_named_rather_than_failing()
    {
        var b = new ProfileBuilder();
        var stack = b.Stack(Managed("A", "B"));
        var good = b.Build();
        var broken = new Profile
        {
            Session = good.Session,
            Frames = new Dictionary<int, FrameInfo>(),
            Stacks = new Dictionary<int, StackNode> { [stack] = new(stack, 0, 99) },
            Threads = [],
            Snapshots = [],
            Samples = [new Sample(1, 5, stack), new Sample(1, 6, 12345)],
        };

        var analysis = ProfileAnalysis.Analyze(broken);

        Assert.Equal(["[missing frame 99]", "[missing stack node 12345]"], analysis.Functions.Select(f => f.Method.DisplayName).Order());
        Assert.Equal(["unknown thread #5", "unknown thread #6"], analysis.Threads.Select(t => t.Thread.Name));
    }

    [Fact]
    public void Empty_profile_gives_an_empty_analysis()
    {
        var analysis = ProfileAnalysis.Analyze(new ProfileBuilder().Build());

        Assert.Equal(0, analysis.TotalSamples);
        Assert.Empty(analysis.Functions);
        Assert.Empty(analysis.CallTree.Children);
        Assert.Equal(0, analysis.Percent(0));
    }

    [Fact]
    public void Pruning_keeps_counts_exact_and_says_what_was_left_out()
    {
        var profile = LargeProfile(samples: 50_000, stacks: 2_000, threads: 4);
        var full = ProfileAnalysis.Analyze(profile);
        var pruned = ProfileAnalysis.Analyze(profile, 1);

        Assert.Equal(full.Functions, pruned.Functions);
        Assert.Equal(full.Threads, pruned.Threads);
        Assert.Equal(full.CallTree.Total, pruned.CallTree.Total);
        var pending = new Stack<(CallTreeNode Full, CallTreeNode Pruned)>([(full.CallTree, pruned.CallTree)]);
        var compared = 0;
        while (pending.Count > 0)
        {
            var (f, p) = pending.Pop();
            compared++;
            Assert.Equal((f.Name, f.Total, f.Self), (p.Name, p.Total, p.Self));
            Assert.Equal(f.Children.Where(c => full.Percent(c.Total) >= 1).Select(c => c.Name), p.Children.Select(c => c.Name));
            Assert.Equal(f.Children.Count(c => full.Percent(c.Total) < 1), p.PrunedChildren);
            Assert.Equal(f.Children.Where(c => full.Percent(c.Total) < 1).Sum(c => c.Total), p.PrunedTotal);
            foreach (var child in p.Children) pending.Push((f.Children.Single(c => c.Name == child.Name), child));
        }
        Assert.True(compared > 20);
    }

    /// <summary>
    /// Stacks grown like real ones: each new stack extends a prefix of an earlier one by a few frames (shared
    /// outer frames, diverse leaves), 5 to 80 deep over 2,000 methods. Samples favour some stacks, as hot paths do.
    /// </summary>
    internal static Profile LargeProfile(int samples, int stacks, int threads)
    {
        var random = new Random(42);
        var b = new ProfileBuilder();
        var threadInfos = Enumerable.Range(1, threads).Select(i => b.Thread(i, $"worker {i}")).ToArray();
        var methods = Enumerable.Range(0, 2_000).Select(i => Managed($"Namespace.Type{i % 97}", $"Method{i}")).ToArray();
        var paths = new List<FrameInfo[]> { methods.Take(5).ToArray() };
        var stackIds = new List<int> { b.Stack(paths[0]) };
        var seen = new HashSet<int>(stackIds);
        while (stackIds.Count < stacks)
        {
            var basis = paths[random.Next(paths.Count)];
            var keep = random.Next(Math.Min(5, basis.Length), basis.Length + 1);
            var path = basis.Take(keep).Concat(Enumerable.Range(0, random.Next(1, 5)).Select(_ => methods[random.Next(methods.Length)])).Take(80).ToArray();
            var id = b.Stack(path);
            if (!seen.Add(id)) continue;
            paths.Add(path);
            stackIds.Add(id);
        }
        // Every stack sampled at least once, the rest skewed towards the first ones.
        for (var i = 0; i < samples; i++)
            b.Sample(threadInfos[i % threads], stackIds[i < stacks ? i : (int)(Math.Pow(random.NextDouble(), 3) * stacks)]);
        return b.Build();
    }
}
