using Snapper.Sampling.Async;

namespace Snapper.Tests.Unit;

/// <summary>
/// Chains of pending async work from a heap walk's pending tasks, without a target: links run from an awaited task to
/// its awaiter (the continuation) or from a box to what its awaiter holds; a chain starts innermost and ends at the
/// outermost awaiter; groups count chains by what they wait for.
/// </summary>
public sealed class AsyncChainsTests
{
    static PendingTask Box(ulong address, string stateMachine, int state, ulong[]? awaiters = null, AwaitedObject? awaits = null) =>
        new(address, "System.Runtime.CompilerServices.AsyncTaskMethodBuilder<System.Int32>+AsyncStateMachineBox<" + stateMachine + ">",
            new AsyncStateMachine(stateMachine, state), awaiters ?? [], awaits);

    static PendingTask Task(ulong address, string type, params ulong[] awaiters) => new(address, type, null, awaiters, null);

    const string Delay = "System.Threading.Tasks.Task+DelayPromise";

    static List<string> Names(AsyncChain chain) => chain.Frames.Select(f => f.Name).ToList();

    [Fact]
    public void A_chain_runs_from_what_the_innermost_method_awaits_out_to_the_outermost_awaiter()
    {
        // Listed outermost first, as a heap walk may find them: the order found must not matter.
        var chains = AsyncChains.Build([
            Box(0x300, "App.Api+<HandleAsync>d__0", 1),
            Box(0x200, "App.Orders+<GetAsync>d__3", 0, awaiters: [0x300]),
            Box(0x100, "App.Orders+<LoadAsync>d__4", 2, awaiters: [0x200]),
            Task(0x50, Delay, 0x100),
        ]);

        var chain = Assert.Single(chains);
        Assert.Equal(Delay, chain.Leaf?.TypeName);
        Assert.Equal(["App.Orders.LoadAsync", "App.Orders.GetAsync", "App.Api.HandleAsync"], Names(chain));
        Assert.Equal([2, 0, 1], chain.Frames.Select(f => f.State ?? -99));
        Assert.All(chain.Frames, f => Assert.True(f.IsAsyncMethod));
        Assert.Equal((AwaitKind.Delay, "Task.Delay"), AwaitGroups.Classify(chain));
    }

    [Fact]
    public void An_awaiter_field_links_a_box_to_a_pending_task_whose_continuation_was_not_followed()
    {
        var chains = AsyncChains.Build([
            Task(0x50, "System.Threading.SemaphoreSlim+TaskNode"), // its continuation led nowhere readable
            Box(0x100, "App.Gate+<EnterAsync>d__1", 0, awaits: new AwaitedObject(0x50, "System.Threading.SemaphoreSlim+TaskNode")),
        ]);

        var chain = Assert.Single(chains);
        Assert.Equal(["App.Gate.EnterAsync"], Names(chain));
        Assert.Equal((AwaitKind.Semaphore, "SemaphoreSlim.WaitAsync"), AwaitGroups.Classify(chain));
    }

    [Fact]
    public void A_task_awaited_twice_starts_one_chain_per_awaiter_and_a_task_no_method_awaits_is_no_chain()
    {
        var chains = AsyncChains.Build([
            Task(0x50, Delay, 0x100, 0x200),
            Box(0x100, "App.A+<FirstAsync>d__0", 0),
            Box(0x200, "App.B+<SecondAsync>d__0", 0),
            Task(0x60, "System.Threading.Tasks.Task<System.Int32>"), // a TaskCompletionSource's, awaited by no one
        ]);

        Assert.Equal(2, chains.Count);
        Assert.Contains(chains, c => Names(c).SequenceEqual(["App.A.FirstAsync"]));
        Assert.Contains(chains, c => Names(c).SequenceEqual(["App.B.SecondAsync"]));
    }

    [Fact]
    public void A_plain_task_between_methods_is_a_step_and_a_cycle_ends_the_chain()
    {
        var chains = AsyncChains.Build([
            Box(0x100, "App.A+<PartAsync>d__0", 0, awaiters: [0x150], awaits: new AwaitedObject(0x900, "System.IO.Pipelines.Pipe+DefaultPipeReader")),
            Task(0x150, "System.Threading.Tasks.Task+WhenAllPromise", 0x200),
            Box(0x200, "App.A+<AllAsync>d__1", 0, awaiters: [0x150]), // a corrupt graph: awaited by what it awaits
        ]);

        var chain = Assert.Single(chains, c => c.Frames[0].Name == "App.A.PartAsync");
        Assert.Equal(["App.A.PartAsync", "System.Threading.Tasks.Task+WhenAllPromise", "App.A.AllAsync"], Names(chain));
        Assert.False(chain.Frames[1].IsAsyncMethod);
        Assert.Equal((AwaitKind.Other, "System.IO.Pipelines.Pipe+DefaultPipeReader"), AwaitGroups.Classify(chain));
    }

    [Fact]
    public void Fan_outs_that_join_again_do_not_multiply_the_chains()
    {
        // Twelve diamonds in a row: 4,096 paths from the innermost task; each task is followed out once.
        List<PendingTask> pending = [Task(0x10, Delay, 0x100)];
        for (ulong level = 0; level < 12; level++)
        {
            var at = 0x100 + level * 0x100;
            pending.Add(Box(at, $"App.L+<Split{level}Async>d__0", 0, awaiters: [at + 0x10, at + 0x20]));
            pending.Add(Box(at + 0x10, $"App.L+<Left{level}Async>d__0", 0, awaiters: [at + 0x100]));
            pending.Add(Box(at + 0x20, $"App.L+<Right{level}Async>d__0", 0, awaiters: [at + 0x100]));
        }
        pending.Add(Box(0x100 + 12 * 0x100, "App.L+<TopAsync>d__0", 0));

        var chains = AsyncChains.Build(pending);

        Assert.Equal(13, chains.Count); // the whole way out once, and each right-hand branch up to where it joins
        Assert.Equal("App.L.TopAsync", chains[0].Frames[^1].Name);
        Assert.Equal(12 * 2 + 1, chains[0].Frames.Count); // each level's split and left, then the top
    }

    [Fact]
    public void Groups_count_chains_by_what_they_await_and_identical_chains_once_each()
    {
        var socket = new AwaitedObject(0x900, "System.Net.Sockets.Socket+AwaitableSocketAsyncEventArgs", "Receive");
        List<PendingTask> pending = [];
        for (ulong i = 0; i < 3; i++)
        {
            pending.Add(Box(0x1000 + i * 0x10, "App.Net+<ReadAsync>d__0", 0, awaiters: [0x2000 + i * 0x10], awaits: socket with { Address = 0x900 + i }));
            pending.Add(Box(0x2000 + i * 0x10, "App.Api+<HandleAsync>d__0", 0));
        }
        for (ulong i = 0; i < 2; i++)
        {
            pending.Add(Task(0x3000 + i * 0x10, Delay, 0x4000 + i * 0x10));
            pending.Add(Box(0x4000 + i * 0x10, "App.Timer+<TickAsync>d__0", 0));
        }
        // An HttpClient call is named as one whatever socket its innermost method reads.
        pending.Add(Box(0x5000, "System.Net.Http.HttpConnection+<SendAsync>d__56", 3, awaiters: [0x5010], awaits: socket with { Address = 0x950 }));
        pending.Add(Box(0x5010, "System.Net.Http.HttpClient+<<SendAsync>g__Core|83_0>d", 0, awaiters: [0x5020]));
        pending.Add(Box(0x5020, "Shop.ShopEndpoints+<QuoteAsync>d__6", 0));
        pending.Add(Box(0x6000, "App.Busy+<WorkAsync>d__0", -1)); // running: awaits nothing

        var groups = AwaitGroups.Of(AsyncChains.Build(pending));

        Assert.Equal(new[] { "HttpClient call", "Task.Delay", "running (on a thread now, or about to be)", "socket read" },
            groups.Select(g => g.Label).Order(StringComparer.Ordinal));
        var reads = groups.Single(g => g.Kind == AwaitKind.Socket);
        Assert.Equal(3, reads.Chains);
        var distinct = Assert.Single(reads.Distinct);
        Assert.Equal(3, distinct.Count);
        Assert.Equal(2, groups.Single(g => g.Kind == AwaitKind.Delay).Chains);
        Assert.Equal(groups.Max(g => g.Chains), groups[0].Chains); // most chains first
        var http = Assert.Single(groups.Single(g => g.Kind == AwaitKind.HttpClient).Distinct).Chain;
        Assert.Equal(["System.Net.Http.HttpConnection.SendAsync", "System.Net.Http.HttpClient.SendAsync.Core", "Shop.ShopEndpoints.QuoteAsync"], Names(http));
        Assert.Equal(AwaitKind.Running, groups.Single(g => g.Chains == 1 && g.Kind != AwaitKind.HttpClient).Kind);
    }

    [Theory]
    [InlineData("Shop.Orders+<GetAsync>d__3", "Shop.Orders.GetAsync")]
    [InlineData("System.Net.Http.HttpClient+<<SendAsync>g__Core|83_0>d", "System.Net.Http.HttpClient.SendAsync.Core")]
    [InlineData("Program+<>c+<<<Main>$>b__0_6>d", "Program.Main (lambda)")]
    [InlineData("Program+<<Main>$>d__0", "Program.Main")]
    [InlineData("App.Jobs+<>c__DisplayClass2_0+<<RunAsync>b__0>d", "App.Jobs.RunAsync (lambda)")]
    [InlineData("Microsoft.AspNetCore.Http.RequestDelegateFactory+<ExecuteTaskResult>d__144<Microsoft.AspNetCore.Http.IResult>", "Microsoft.AspNetCore.Http.RequestDelegateFactory.ExecuteTaskResult")]
    [InlineData("KestrelConnection<System.__Canon>+<ExecuteAsync>d__8", "KestrelConnection<System.__Canon>.ExecuteAsync")]
    [InlineData("NotAStateMachine", "NotAStateMachine")]
    [InlineData("Broken+<Unclosed", "Broken+<Unclosed")]
    public void A_state_machine_is_named_after_the_method_it_was_made_from(string stateMachine, string method) =>
        Assert.Equal(method, AsyncMethodNames.Of(stateMachine));
}
