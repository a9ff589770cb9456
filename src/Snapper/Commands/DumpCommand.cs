using System.CommandLine;
using System.Globalization;
using Snapper.Cli;
using Snapper.Sampling;
using Snapper.Sampling.Async;
using Snapper.Sampling.ClrMd;
using Snapper.Store;

namespace Snapper.Commands;

/// <summary><c>snapper dump</c>: every thread's stack from one stop, printed at once, with the holders of the locks threads wait for.</summary>
public static class DumpCommand
{
    enum Format { Text, Json }

    static readonly Option<int?> Pid = new("--pid", "-p") { Description = "The process to dump.", HelpName = "pid" };
    static readonly Option<string?> Name = new("--name")
    {
        Description = "The .NET process to dump, by name (as 'snapper ps' shows it). Instead of --pid.",
        HelpName = "name",
    };
    static readonly Option<Format> FormatOption = CommonOptions.Choice("--format", "text: for people (default). json: for tools (fields in docs/json-report.md).", Format.Text);
    static readonly Option<string?> Db = new("--db")
    {
        Description = "Also keep the snapshot in this SQLite store (created if missing), as a session of one sample: 'snapper report' and the exports read it.",
        HelpName = "path",
    };
    static readonly Option<int> MaxFrames = new("--max-frames") { Description = "Deepest stack to read per thread.", DefaultValueFactory = _ => 256, HelpName = "n" };
    static readonly Option<bool> NativeFrames = CommonOptions.NativeFrames();
    static readonly Option<bool> Async = new("--async")
    {
        Description = "Also list the pending async work: the chains of awaiting async methods, grouped by what they wait for "
            + "(Task.Delay, a socket, a SemaphoreSlim, an HttpClient call...), found by a walk of the GC heap in the same stop, "
            + "every thread of the process held meanwhile. Cost: the target is held for the walk, about 20 ms on a small program "
            + "and 0.3-0.55 s on an ASP.NET Core service under load (120,000-440,000 objects; docs/dump.md), never past --async-budget.",
    };
    static readonly Option<TimeSpan?> AsyncBudget = CommonOptions.Duration("--async-budget",
        "With --async: the longest the target may be held, counted from the start of the stop (default 1s, at most 1m). The "
        + "heap walk stops early enough to end within it (at 90% of it, but at least 100 ms before its end and not before its half), and the dump then "
        + "says it is partial, with how much of the heap was walked and the heap's size. The stops and stack walks come first.");
    static readonly TimeSpan DefaultAsyncBudget = TimeSpan.FromSeconds(1);
    static readonly Option<ThreadSelection?> Threads = CommonOptions.Threads("Print (and keep) only the threads whose names match.");

    public static Command Create()
    {
        var command = new Command("dump", """
            Print every managed thread's stack from one stop of the process, innermost frame first, with each
            thread's name and state (cpu, lock/wait, sleep, io, idle threadpool) and the system call it is blocked in.
            A thread entering a lock (a 'lock' statement or Monitor.Enter, or a System.Threading.Lock) is shown with
            the lock and the thread that holds it, read in the same stop. Every thread is held until all are read:
            the line at the top says for how long.

            Examples:
              snapper dump --pid 1234
              snapper dump --name Orders --format json > orders-threads.json
              snapper dump --pid 1234 --native                 also the native frames (libc, the runtime) on top
              snapper dump --pid 1234 --async                  also what every pending async chain awaits (a heap walk)
              snapper dump --pid 1234 --db snapper.db          keep it too, as a one-sample session
            """)
        {
            Pid, Name, FormatOption, Db, Threads, MaxFrames, NativeFrames, Async, AsyncBudget,
        };
        command.SetAction(result => CommandRunner.Run(() => Execute(result)));
        return command;
    }

    static int Execute(ParseResult result)
    {
        var maxFrames = result.GetValue(MaxFrames);
        if (maxFrames is < 1 or > 65536)
            throw new SnapperException(ExitCode.InvalidArguments, $"--max-frames must be between 1 and 65536, not {maxFrames}");
        var asyncBudget = AsyncBudgetOf(result);
        var dbPath = result.GetValue(Db);
        if (dbPath is not null)
            using (var store = SnapperDatabase.Open(dbPath)) // fails before the target is touched when it cannot be written
                store.WaitUntilWritable(() => Console.Error.WriteLine($"Waiting for {dbPath}: another writer holds it (up to 30 s)..."));
        var target = FindTarget(result.GetValue(Pid), result.GetValue(Name));
        var threads = result.GetValue(Threads);
        var (snapshot, runtimeVersion, knowsRunState, takenUtc, pendingAsync) = Take(target, maxFrames, result.GetValue(NativeFrames), asyncBudget);
        var nativeThreads = NativeThreads(target.Pid, snapshot, threads);
        if (threads is not null)
            snapshot = snapshot with { Threads = snapshot.Threads.Where(t => threads.Matches(t.Identity.Name, t.Identity.OsName, t.Identity.Role)).ToList() };
        var dump = new ThreadDump(target, runtimeVersion, takenUtc, snapshot, nativeThreads, pendingAsync is null ? null : new AsyncDump(pendingAsync));
        Console.Out.Write(result.GetValue(FormatOption) == Format.Json ? dump.ToJson() : dump.ToText());
        if (dbPath is not null)
        {
            using var db = SnapperDatabase.Open(dbPath);
            var options = new CaptureOptions(target, new SamplingPlan(TimeSpan.FromSeconds(1), 1, null), Engine.Ptrace, maxFrames,
                "snapper " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)), threads, NativeFrames: result.GetValue(NativeFrames));
            var session = CaptureRunner.StoreOne(db, options, runtimeVersion, knowsRunState, snapshot, takenUtc);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Kept in {dbPath} as session {session}."));
        }
        return (int)ExitCode.Success;
    }

    /// <summary>The heap walk's budget when --async is given (null: no walk).</summary>
    static TimeSpan? AsyncBudgetOf(ParseResult result)
    {
        var budget = result.GetValue(AsyncBudget);
        if (!result.GetValue(Async))
            return budget is null ? null : throw new SnapperException(ExitCode.InvalidArguments, "--async-budget goes with --async");
        if (budget is { } given && (given <= TimeSpan.Zero || given > TimeSpan.FromMinutes(1)))
            throw new SnapperException(ExitCode.InvalidArguments, $"--async-budget must be more than 0 and at most 1m, not {given.TotalSeconds:0.###}s");
        return budget ?? DefaultAsyncBudget;
    }

    /// <summary>
    /// The one stop, on a thread of its own as every capture's (ptrace calls must all come from one thread, and the
    /// session is closed, resuming the target, on it whatever happens).
    /// </summary>
    static (CapturedSnapshot Snapshot, string RuntimeVersion, bool KnowsRunState, DateTime TakenUtc, PendingAsyncHeap? PendingAsync) Take(
        TargetProcess target, int maxFrames, bool nativeFrames, TimeSpan? asyncBudget)
    {
        (CapturedSnapshot, string, bool, DateTime, PendingAsyncHeap?)? taken = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var targetLock = TargetLock.Acquire(target);
                target.EnsureNotTraced();
                using var source = PtraceStackSource.Open(target, maxFrames, nativeFrames);
                var takenUtc = DateTime.UtcNow;
                taken = (source.CaptureAllAtOnce(asyncBudget), source.RuntimeVersion, source.KnowsRunState, takenUtc, source.PendingAsync);
            }
            catch (TargetExitedException)
            {
                failure = new SnapperException(ExitCode.TargetExited, $"process {target.Pid} ({target.Name}) exited before it could be read");
            }
            catch (SnapshotFailedException e)
            {
                failure = new SnapperException(ExitCode.SamplingFailed, $"the stop of process {target.Pid} ({target.Name}) failed: {e.Message}");
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { Name = "snapper-dump" };
        thread.Start();
        thread.Join();
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return taken!.Value;
    }

    /// <summary>
    /// The process's threads that are not managed ones (from /proc after the stop, the target running again), those
    /// whose names match <paramref name="selection"/> when given.
    /// </summary>
    static List<NativeThread> NativeThreads(int pid, CapturedSnapshot snapshot, ThreadSelection? selection)
    {
        var managed = snapshot.Threads.Select(t => t.OsThreadId).ToHashSet();
        var native = new List<NativeThread>();
        foreach (var tid in Sampling.Linux.ProcFs.ListThreads(pid))
        {
            if (managed.Contains(tid)) continue;
            var name = Sampling.Linux.ProcFs.ReadThreadComm(pid, tid);
            if (selection is not null && !selection.Matches(null, name, null)) continue;
            native.Add(new NativeThread(tid, name, Sampling.Linux.ProcFs.ReadThreadState(pid, tid)));
        }
        return native;
    }

    static TargetProcess FindTarget(int? pid, string? name)
    {
        if ((pid is null) == (name is null))
            throw new SnapperException(ExitCode.InvalidArguments, "give the process to dump with --pid or --name (see 'snapper ps')");
        if (pid is { } id) return TargetProcess.Inspect(id);
        var matches = DotnetProcesses.Named(name!);
        return matches.Count switch
        {
            0 => throw new SnapperException(ExitCode.NoMatchingProcess, $"no .NET process named '{name}' is running (see 'snapper ps')"),
            1 => TargetProcess.Inspect(matches[0].Pid),
            _ => throw new SnapperException(ExitCode.InvalidArguments,
                $"{matches.Count} .NET processes are named '{name}' (pids {string.Join(", ", matches.Select(m => m.Pid))}): pick one with --pid"),
        };
    }
}
