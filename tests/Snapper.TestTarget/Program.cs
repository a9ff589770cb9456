// A target for Snapper's real-process tests. Each scenario starts threads in a known state, then prints
// "READY <pid>" so the test never has to sleep and hope. Scenarios:
//   mixed            spinning, recursing (20 deep, then waiting), P/Invoke-sleeping, Monitor.Wait-ing named threads
//   exit-after <ms>  "mixed", then the process exits by itself after <ms>
//   alternating      a thread that blocks 40 ms in Alpha.Wait, then 40 ms in Beta.Wait (same depth, same
//                    Sleep), forever: a stale reused stack would show one of them only
//   native-leaf      a thread that spends its time in libc's memset, called without a transition frame
//                    ([SuppressGCTransition]), as FCalls and JIT helpers are
//   uninterruptible <fifo>
//                    a thread in uninterruptible sleep (a vfork) until the test opens <fifo> for writing
//   stress           threads created and ended constantly, constant GCs, exceptions thrown constantly, child
//                    processes exiting (SIGCHLD), SIGRTMIN+2 and SIGUSR1 handlers; each stdin line is answered
//                    "SIGNALS <n> THREADS <n> GCS <n> USR1 <n> EXCEPTIONS <n> CHILDREN <n> CHILDREN_LOST <n>"
//   states           one thread per state: a spinner, Thread.Sleep, a blocking socket read, a P/Invoke (usleep),
//                    Monitor.Wait in a thread named after it started, and a warmed-up, idle thread pool; a line
//                    "rename" on stdin names an unnamed waiting thread "Renamed while watched" (answer: RENAMED)
//   split            a thread spending 70% of its CPU time in Split.Seventy and 30% in Split.Thirty
//   die-after <ms> <how>
//                    "mixed", then the process ends abruptly after <ms>: how = exception (unhandled), failfast,
//                    kill (SIGKILL to itself) or exec (becomes /bin/sleep, no longer .NET)
//   bursts [monitor] threads that wake briefly and spin, each kind measuring its own share of wall time (see
//                    Bursts); stdin "SHARES" is answered "SHARES <dedicated> <pool> <timer>", "RESET" restarts them
//   churn [<workers>]
//                    worker threads (default 8) whose stacks change all the time: recursion, P/Invokes, exceptions,
//                    shared generics, interface calls, allocation (see Churn); each stdin line is answered "WORK <units>"
//   crunch           one thread computing in two methods by turns, its loop counter in the caller (see Crunch);
//                    each stdin line is answered "WORK <units>"
//   locks            named threads holding two Monitors and two System.Threading.Locks, named waiters queued on
//                    each, and a holder of a Monitor queued on a Lock (see Locks)
//   hostile          a thread blocked inside a method of a type named like an HTML injection
//   internals        the runtime internals Snapper reads, each in a known state: Monitors (thin, held, free), Locks,
//                    P/Invokes, a spinner, and a thread of each kind the runtime names (see Internals)
//   tiering          code compiled all the time: new methods emitted, called until promoted, recompiled at tier 1 by
//                    the runtime's background worker (see Tiering); each stdin line is answered "TYPES <n>"
//   stubs            a thread making interface calls at one call site on objects of eight types: its time goes to
//                    the runtime's resolve stub as much as to its own code (see Stubs)
//   async            async chains three awaits deep waiting on a Task.Delay, a socket read and a SemaphoreSlim, and
//                    finished chains kept referenced (see AsyncWaits)
//   bench <spinning> <blocked>
//                    <spinning> threads doing counted work, <blocked> threads waiting at depths 1-10 (half in
//                    Monitor.Wait, half in Thread.Sleep); each line read on stdin is answered with "WORK <units>"
using Snapper.TestTarget;

var scenario = args.Length > 0 ? args[0] : "mixed";
switch (scenario)
{
    case "mixed":
        Scenarios.Mixed();
        break;
    case "exit-after":
        Scenarios.Mixed();
        Ready();
        Thread.Sleep(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case "states":
        States.Start();
        Ready();
        States.RenameOnRequest();
        return 0;
    case "split":
        Split.Start();
        break;
    case "die-after":
        Scenarios.Mixed();
        Ready();
        Thread.Sleep(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
        Dying.Die(args[2]);
        return 0;
    case "hostile":
        Scenarios.Hostile();
        break;
    case "crunch":
        Crunch.Start();
        Ready();
        while (Console.ReadLine() is not null) Console.WriteLine($"WORK {Crunch.Units}");
        return 0;
    case "churn":
        Churn.Start(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 8);
        Ready();
        while (Console.ReadLine() is not null) Console.WriteLine($"WORK {Churn.Units}");
        return 0;
    case "alternating":
        Alternating.Start();
        break;
    case "stubs":
        Stubs.Start();
        break;
    case "tiering":
        Tiering.Start();
        Ready();
        while (Console.ReadLine() is not null) Console.WriteLine($"TYPES {Tiering.Types}");
        return 0;
    case "internals":
        Internals.Start();
        break;
    case "native-leaf":
        NativeLeaf.Start();
        break;
    case "uninterruptible":
        Uninterruptible.Start(args[1]);
        break;
    case "stress":
        Stress.Start();
        Ready();
        Stress.AnswerQueries();
        return 0;
    case "bursts":
        Bursts.Start(waitOnMonitor: args.Length > 1 && args[1] == "monitor");
        Ready();
        Bursts.AnswerQueries();
        return 0;
    case "locks":
        Locks.Start();
        break;
    case "locks-moving":
        Locks.Start();
        Locks.StartRotation();
        Ready();
        Locks.CompactTheHeapForever();
        return 0;
    case "async":
        AsyncWaits.Start();
        break;
    case "bench":
        Bench.Start(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
        Ready();
        Bench.AnswerQueries();
        return 0;
    default:
        Console.Error.WriteLine($"unknown scenario {scenario}");
        return 2;
}
Ready();
Thread.Sleep(Timeout.Infinite);
return 0;

static void Ready()
{
    Console.WriteLine($"READY {Environment.ProcessId}");
    Console.Out.Flush();
}
