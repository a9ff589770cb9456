using System.Buffers.Binary;
using System.Text;
using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling;
using Snapper.Sampling.ClrMd;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Snapper's assumptions about the runtime's objects and threads (docs/runtime-assumptions.md), each put to the runtime
/// of the "internals" target directly, with ClrMD holding it still: object headers (sync-block index, thin lock), the
/// sync-block calls and the layout learned from them, MethodTables' parents, System.Threading.Lock's owner field, the
/// lock methods' names, where a Thread object keeps its OS thread id, Thread.Name's fields, and the names and flags of
/// the runtime's own threads. Each fails when its assumption no longer holds.
/// </summary>
[Collection(InternalsCollection.Name)]
public sealed class RuntimeObjectAssumptionsTests(InternalsTarget internals)
{
    /// <summary>
    /// An object's header holds its sync block's index (a contended Monitor, one waited on) or a thin lock (a Monitor
    /// taken twice without contention: the holder's thin-lock id below, the recursion count above). The DAC's entry for
    /// the index (SOS GetSyncBlockData) names the object, the lock's state, its waiters and its holder; the thin-lock id
    /// (SOS GetThreadFromThinlockID) names the holder.
    /// </summary>
    [Fact]
    public void Object_headers_lead_to_the_holders_of_Monitors_through_the_DAC()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var sos = SosSyncBlocks.TryCreate(attached.Runtime) ?? throw new InvalidOperationException("no SOSDac interface");

        var orders = attached.Static("Snapper.TestTarget.Locks", "Orders");
        var held = Entry(attached, sos, orders) ?? throw new InvalidOperationException("no sync-block entry for the held Monitor");
        Assert.Equal(orders.Address, held.Object);
        Assert.Equal(1u, held.MonitorHeld & 1);
        Assert.Equal(3, held.Waiters); // Orders waiters 1-3
        Assert.Equal(attached.Thread(internals.Tid("Orders holder")).Address, held.HoldingThread);

        var waitedOn = attached.Static("Snapper.TestTarget.Waiter", "Gate"); // Monitor.Wait let it go
        var free = Entry(attached, sos, waitedOn) ?? throw new InvalidOperationException("no sync-block entry for the Monitor waited on");
        Assert.Equal(waitedOn.Address, free.Object);
        Assert.Equal(0u, free.MonitorHeld);

        var header = Header(attached, attached.Static("Snapper.TestTarget.Internals", "Thin").Address);
        Assert.Equal(0u, header & LockHolders.HashOrSyncIndexBit);
        Assert.NotEqual(0u, header >> 16); // taken twice: the recursion count, above the id
        Assert.Equal(attached.Thread(internals.Tid("Thin holder")).Address, sos.ThreadOfThinLock(header & LockHolders.ThinLockThreadMask));
    }

    /// <summary>
    /// SyncBlockLayout learns, from the DAC's descriptions of real sync blocks and their memory, which word is the lock's
    /// state and which its holder, and then reads a Monitor's state and holder from its sync block's memory alone. On
    /// .NET 10 it can tell the state from the recursion count (the next word) only once it has seen a Monitor held twice,
    /// and from a word that is odd in every contended block only once it has seen a contended one free: until then it
    /// knows nothing (and the DAC is asked), never something wrong.
    /// </summary>
    [Fact]
    public void The_sync_block_layout_is_learned_from_the_DACs_descriptions_and_reads_state_and_holder()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var sos = SosSyncBlocks.TryCreate(attached.Runtime) ?? throw new InvalidOperationException("no SOSDac interface");
        var layout = new SyncBlockLayout();
        var blocks = new List<(string Name, SyncBlockData Entry, byte[] Memory)>();
        foreach (var (type, field) in new[] { ("Locks", "Orders"), ("Locks", "Stock"), ("Waiter", "Gate"), ("Internals", "Recursive"), ("Internals", "Released") })
        {
            var entry = Entry(attached, sos, attached.Static($"Snapper.TestTarget.{type}", field)) ?? throw new InvalidOperationException($"no sync block for {field}");
            var memory = new byte[SyncBlockLayout.Bytes];
            Assert.Equal(memory.Length, attached.Memory.ReadUncached(entry.SyncBlock, memory));
            blocks.Add((field, entry, memory));
            layout.Learn(memory, entry, entry.HoldingThread == 0 ? null : (int)attached.Runtime.Threads.Single(t => t.Address == entry.HoldingThread).OSThreadId);
            foreach (var (name, seen, bytes) in blocks)
                if (layout.Read(bytes) is { } read) Assert.True(Agrees(attached, read, seen), $"after {field}, {name} read as {read}; the DAC: {seen}");
        }
        Assert.All(blocks, block => Assert.True(layout.Read(block.Memory) is not null, $"the layout was not learned ({block.Name})"));
        Assert.Equal([true, true, false, true, false], blocks.Select(block => layout.Read(block.Memory)!.Value.Held));
    }

    /// <summary>Whether a sync block read by the layout learned says what the DAC said of it.</summary>
    static bool Agrees(AttachedRuntime attached, (bool Held, ulong Holder, bool HolderIsOsThreadId) read, SyncBlockData described)
    {
        if (read.Held != ((described.MonitorHeld & 1) != 0)) return false;
        if (!read.Held) return true;
        var holder = attached.Runtime.Threads.Single(t => t.Address == described.HoldingThread);
        return read.Holder == (read.HolderIsOsThreadId ? holder.OSThreadId : holder.Address);
    }

    /// <summary>
    /// MethodTableCheck learns where a MethodTable keeps its parent, and then takes a real object's MethodTable (its
    /// parents lead to System.Object's) and nothing else: not an object, a stack address, code, or a MethodTable's inside.
    /// </summary>
    [Fact]
    public void A_MethodTable_is_told_by_its_parents_leading_to_System_Objects()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var check = new MethodTableCheck(attached.Memory);
        // Sampling asks again at a later snapshot when the base types are not found; so does this test, with the DAC's
        // caches flushed between: in two full runs (never alone) ClrMD's BaseClassLibrary found none of the four on the first ask.
        var learned = check.Learn(attached.Runtime);
        for (var again = 0; !learned && check.NeedsLearning && again < 5; again++)
        {
            attached.Runtime.FlushCachedData();
            learned = check.Learn(attached.Runtime);
        }
        Assert.True(learned, $"no single offset at which String's and Int32's MethodTables hold their parents: {check.LearnFailure}");
        var orders = attached.Static("Snapper.TestTarget.Locks", "Orders");
        foreach (var obj in new[] { orders, attached.Static("Snapper.TestTarget.Locks", "Payments"), attached.Static("Snapper.TestTarget.Waiter", "Gate") })
            Assert.True(check.IsMethodTable(obj.Type!.MethodTable), obj.Type.Name);
        var spinner = attached.Registers(internals.Tid("Spinner"));
        foreach (var notOne in new[] { 0UL, orders.Address, orders.Type!.MethodTable + 8, spinner.Rsp, spinner.Rip & ~7UL })
            Assert.False(check.IsMethodTable(notOne), $"{notOne:x} taken for a MethodTable");
    }

    /// <summary>
    /// A System.Threading.Lock keeps its holder's OS thread id in its _owningThreadId field, which LockHolders reads at
    /// the field's offset after the MethodTable pointer; a thread entering a Monitor or a Lock is in their Enter methods
    /// (LockFrames), the Lock's holder is not.
    /// </summary>
    [Fact]
    public void A_Lock_names_its_holder_by_OS_thread_id_and_lock_entry_is_told_by_method_names()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var payments = attached.Static("Snapper.TestTarget.Locks", "Payments");
        var owner = payments.Type!.GetFieldByName("_owningThreadId") ?? throw new InvalidOperationException("System.Threading.Lock has no _owningThreadId");
        var word = new byte[4];
        Assert.Equal(4, attached.Memory.ReadUncached(payments.Address + 8 + (ulong)owner.Offset, word));
        Assert.Equal((uint)internals.Tid("Payments holder"), BinaryPrimitives.ReadUInt32LittleEndian(word));

        Assert.Equal(LockKind.Monitor, Entering(attached, "Orders waiter 1")?.Kind);
        Assert.Equal(LockKind.Lock, Entering(attached, "Shipping waiter")?.Kind);
        Assert.Null(Entering(attached, "Payments holder"));
    }

    /// <summary>
    /// ThreadObjectIds learns where a runtime Thread object keeps its OS thread id from threads whose ids are known, and
    /// reads another thread's from its object.
    /// </summary>
    [Fact]
    public void A_Thread_object_holds_its_OS_thread_id_where_Snapper_learns_it()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var threads = attached.Runtime.Threads.Where(t => t.IsAlive && t.OSThreadId != 0).ToList();
        var asked = attached.Thread(internals.Tid("Thin holder"));
        var known = threads.Where(t => t.Address != asked.Address).Select(t => (t.Address, (int)t.OSThreadId));
        Assert.Equal((int)asked.OSThreadId, new ThreadObjectIds(attached.Memory).Of(asked.Address, known));
    }

    /// <summary>ManagedThreadNames reads Thread.Name from each System.Threading.Thread's _name, matched by _DONT_USE_InternalThread.</summary>
    [Fact]
    public void Managed_thread_names_are_read_from_the_Thread_objects_fields()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var thread = attached.Thread(internals.Tid("Waiting on a Mo"));
        var names = new ManagedThreadNames();
        Assert.True(names.Update(attached.Runtime, [new RawThread((int)thread.OSThreadId, thread.ManagedThreadId, thread.Address, [], 0)], osNameChanged: false));
        Assert.Equal("Waiting on a Monitor, named at length", names.NameOf(thread.Address));
    }

    /// <summary>
    /// ThreadRoles labels the runtime's own threads by the OS names the runtime gives them (15 characters kept) and by
    /// the runtime's flags: each kind started by the target carries the name (and flag) its label is found by.
    /// </summary>
    [Fact]
    public void The_runtimes_threads_carry_the_names_and_flags_their_roles_are_told_by()
    {
        var expected = new Dictionary<string, string>
        {
            [".NET TP Worker"] = "thread pool worker", [".NET TP Gate"] = "thread pool gate", [".NET TP Wait"] = "thread pool wait",
            [".NET Finalizer"] = "finalizer", [".NET Tiered Com"] = "tiered compilation", [".NET Timer"] = "timer",
            [".NET Sockets"] = "socket engine", [".NET SigHandler"] = "signal handler", [".NET Server GC"] = "server GC",
            [".NET Long Runni"] = "long-running task", [".NET File Watch"] = "file watcher", [".NET EventPipe"] = "EventPipe",
            [".NET Counter Po"] = "counter poller",
        };
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var threads = internals.Target.Threads();
        var missing = expected.Keys.Where(name => !threads.Exists(t => t.Name == name)).ToList();
        Assert.True(missing.Count == 0, $"no thread named {string.Join(", ", missing)}; the target's: {string.Join(", ", threads.Select(t => t.Name))}");
        foreach (var (tid, name, _) in threads.Where(t => expected.ContainsKey(t.Name)).Append((internals.Target.Pid, "dotnet", 'S')))
        {
            var clrThread = attached.Runtime.Threads.FirstOrDefault(t => t.OSThreadId == tid);
            var flags = clrThread is null ? RuntimeThreadFlags.None : ClrStackWalker.FlagsOf(clrThread);
            Assert.Equal(tid == internals.Target.Pid ? "main thread" : expected[name], ThreadRoles.Of(flags, name, tid, internals.Target.Pid));
            if (name == ".NET Finalizer") Assert.Equal(RuntimeThreadFlags.Finalizer, flags & RuntimeThreadFlags.Finalizer);
            if (name == ".NET TP Worker") Assert.Equal(RuntimeThreadFlags.ThreadPoolWorker, flags & RuntimeThreadFlags.ThreadPoolWorker);
        }
        // Background GC threads (".NET BGC") come and go with background collections: the runtime carries that name.
        var coreclr = File.ReadAllBytes(Snapper.Sampling.TargetProcess.Inspect(internals.Target.Pid).RuntimeLibrary);
        Assert.True(coreclr.AsSpan().IndexOf(Encoding.ASCII.GetBytes(".NET BGC\0")) >= 0, "libcoreclr.so does not name a thread .NET BGC");
    }

    /// <summary>
    /// SampleStateRules tells a thread waiting for the runtime to hand it work (idle) from one waiting for something (a
    /// lock, a sleep) by the framework's methods on its stack (an idle pool worker's LowLevelLifoSemaphore, the gate and
    /// wait threads' loops, the timer thread's, the socket engine's) or, with no managed frame at all, by its role; a
    /// sleep by Thread.Sleep's frames. Each runtime thread of the target, blocked as it is, is classified so.
    /// </summary>
    [Fact]
    public void Threads_waiting_for_the_runtime_to_hand_them_work_are_told_idle_by_their_frames()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        using var resolver = new FrameResolver(path => path);
        var states = new List<(string Name, SampleState State)>();
        foreach (var (tid, name, _) in internals.Target.Threads())
        {
            if (attached.Runtime.Threads.FirstOrDefault(t => t.OSThreadId == tid) is not { } thread) continue; // no managed identity
            var frames = resolver.Resolve(new RawThread(tid, thread.ManagedThreadId, thread.Address, [.. attached.Walk(thread)], 0));
            var role = ThreadRoles.Of(ClrStackWalker.FlagsOf(thread), name, tid, internals.Target.Pid);
            states.Add((name, SampleStateRules.Classify(frames, SampleActivity.Syscall, "futex", role)));
        }
        string Of(string name) => string.Join(", ", states.Where(s => s.Name == name).Select(s => s.State));
        foreach (var name in new[] { ".NET TP Gate", ".NET TP Wait", ".NET Timer", ".NET Sockets", ".NET Finalizer", ".NET Tiered Com" })
            Assert.True(Of(name) == nameof(SampleState.IdleThreadPool), $"{name}: {Of(name)}");
        // The pool's workers: one kept asleep in a work item, the others parked.
        Assert.Contains(SampleState.IdleThreadPool, states.Where(s => s.Name == ".NET TP Worker").Select(s => s.State));
        Assert.True(Of("Thin holder") == nameof(SampleState.Sleep), $"Thread.Sleep: {Of("Thin holder")}");
    }

    static SyncBlockData? Entry(AttachedRuntime attached, SosSyncBlocks sos, ClrObject obj)
    {
        var header = Header(attached, obj.Address);
        Assert.True((header & (LockHolders.HashOrSyncIndexBit | LockHolders.HashCodeBit)) == LockHolders.HashOrSyncIndexBit, $"{obj.Type?.Name}: header {header:x8} holds no sync-block index");
        return sos.Entry(header & LockHolders.SyncIndexMask);
    }

    /// <summary>The object header: the 4 bytes before the MethodTable pointer.</summary>
    static uint Header(AttachedRuntime attached, ulong obj)
    {
        var header = new byte[4];
        Assert.Equal(4, attached.Memory.ReadUncached(obj - 4, header));
        return BinaryPrimitives.ReadUInt32LittleEndian(header);
    }

    LockFrames.Entering? Entering(AttachedRuntime attached, string osName)
    {
        var thread = attached.Thread(internals.Target.Threads().First(t => t.Name == osName).Tid);
        return LockFrames.Of(new RawThread((int)thread.OSThreadId, thread.ManagedThreadId, thread.Address, [.. attached.Walk(thread)], 0));
    }
}
