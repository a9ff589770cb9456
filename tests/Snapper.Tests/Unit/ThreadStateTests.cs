using System.Text;
using Snapper.Sampling;
using Snapper.Sampling.Linux;
using Snapper.Store;

namespace Snapper.Tests.Unit;

public sealed class ThreadStateTests
{
    static readonly FrameInfo Start = new(FrameKind.Managed, "System.Private.CoreLib.dll", "System.Threading.Thread", "StartCallback");
    static readonly FrameInfo UserCode = new(FrameKind.Managed, "app.dll", "App.Worker", "Run");
    static readonly FrameInfo MonitorWait = new(FrameKind.Managed, "System.Private.CoreLib.dll", "System.Threading.Monitor", "Wait");
    static readonly FrameInfo ThreadSleep = new(FrameKind.Managed, "System.Private.CoreLib.dll", "System.Threading.Thread", "Sleep");
    static readonly FrameInfo Park = new(FrameKind.Managed, "System.Private.CoreLib.dll", "System.Threading.LowLevelLifoSemaphore", "WaitForSignal");
    static readonly FrameInfo WorkerStart = new(FrameKind.Managed, "System.Private.CoreLib.dll", "System.Threading.PortableThreadPool+WorkerThread", "WorkerThreadStart");
    static readonly FrameInfo QCall = new(FrameKind.Transition, "QCall", "", "WaitHandle_WaitOnePrioritized");
    static readonly FrameInfo Usleep = new(FrameKind.Transition, "libc", "", "libc!usleep");

    static SampleState Classify(SampleActivity activity, string? syscall, string? role, params FrameInfo[] frames) =>
        SampleStateRules.Classify(frames, activity, syscall, role);

    [Fact]
    public void Running_code_is_cpu_whatever_the_stack_says()
    {
        Assert.Equal(SampleState.Cpu, Classify(SampleActivity.ManagedCode, null, null, Start, UserCode, ThreadSleep));
        Assert.Equal(SampleState.Cpu, Classify(SampleActivity.NativeCode, null, null, Start, UserCode, Usleep));
        Assert.Equal(SampleState.Cpu, Classify(SampleActivity.Syscall, "sched_yield", null, Start, UserCode));
    }

    [Fact]
    public void A_thread_runnable_in_any_system_call_is_cpu()
    {
        // Woken from its wait (or running in the kernel) when the snapshot came: not waiting, whatever the call and stack.
        Assert.Equal(SampleState.Cpu, SampleStateRules.Classify([Start, UserCode, MonitorWait], SampleActivity.Syscall, "futex", null, runnable: true));
        Assert.Equal(SampleState.Cpu, SampleStateRules.Classify([Start, UserCode, ThreadSleep], SampleActivity.Syscall, "clock_nanosleep", null, runnable: true));
        Assert.Equal(SampleState.Cpu, SampleStateRules.Classify([Start, UserCode], SampleActivity.Syscall, null, null, runnable: true));
    }

    [Theory]
    [InlineData(-4L, true)] // EINTR
    [InlineData(-512L, true)] // ERESTARTSYS: futex, a read
    [InlineData(-516L, true)] // ERESTART_RESTARTBLOCK: nanosleep
    [InlineData(0L, false)] // the call finished: it was running in the kernel, or had been woken
    [InlineData(-11L, false)] // EAGAIN, its own result
    public void A_stopped_threads_return_value_says_whether_the_stop_woke_it(long rax, bool wasAsleep)
    {
        var registers = new Snapper.Sampling.Linux.Native.UserRegs { Rax = (ulong)rax, OrigRax = 202 };
        Assert.Equal(wasAsleep, Snapper.Sampling.Linux.InterruptedSleep.Of(registers));
    }

    [Fact]
    public void The_same_futex_is_a_sleep_a_wait_or_an_idle_worker_by_its_stack()
    {
        Assert.Equal(SampleState.Sleep, Classify(SampleActivity.Syscall, "futex", null, Start, UserCode, ThreadSleep));
        Assert.Equal(SampleState.LockWait, Classify(SampleActivity.Syscall, "futex", null, Start, UserCode, MonitorWait));
        Assert.Equal(SampleState.IdleThreadPool, Classify(SampleActivity.Syscall, "futex", "thread pool worker", Start, WorkerStart, Park, QCall));
        // The runtime's sleep under code with no managed Thread.Sleep frame (inlined, or called through a P/Invoke of its own).
        Assert.Equal(SampleState.Sleep, Classify(SampleActivity.Syscall, "futex", null, Start, UserCode,
            new FrameInfo(FrameKind.Transition, "QCall", "", "QCall!ThreadNative_Sleep")));
        // A worker running a work item that waits is waiting, not idle.
        Assert.Equal(SampleState.LockWait, Classify(SampleActivity.Syscall, "futex", "thread pool worker", Start, WorkerStart, UserCode, MonitorWait));
    }

    [Fact]
    public void Without_a_decisive_frame_the_syscall_decides()
    {
        Assert.Equal(SampleState.Sleep, Classify(SampleActivity.Syscall, "clock_nanosleep", null, Start, UserCode, Usleep));
        Assert.Equal(SampleState.Io, Classify(SampleActivity.Syscall, "recvmsg", null, Start, UserCode));
        Assert.Equal(SampleState.Io, Classify(SampleActivity.Syscall, "epoll_wait", null, Start, UserCode));
        Assert.Equal(SampleState.LockWait, Classify(SampleActivity.Syscall, "wait4", null, Start, UserCode));
        Assert.Equal(SampleState.Unknown, Classify(SampleActivity.Unknown, null, null, Start, UserCode));
    }

    [Fact]
    public void A_runtime_service_thread_blocked_outside_managed_code_is_idle()
    {
        Assert.Equal(SampleState.IdleThreadPool, Classify(SampleActivity.Syscall, "futex", "finalizer", QCall));
        Assert.Equal(SampleState.LockWait, Classify(SampleActivity.Syscall, "futex", null, QCall));
        // The finalizer running an object's Finalize that blocks is waiting.
        Assert.Equal(SampleState.LockWait, Classify(SampleActivity.Syscall, "futex", "finalizer", UserCode, MonitorWait));
    }

    [Theory]
    [InlineData("202 0x7f 0x80 0x0 0x0 0x0 0x0 0x7ffd1000 0x7f2e67bc3f16\n", false, 202)]
    [InlineData("running\n", true, -1)]
    [InlineData("-1 0x7ffd1000 0x7f2e67bc3f16\n", false, -1)]
    public void The_proc_syscall_line_gives_the_syscall_number(string line, bool running, int syscall)
    {
        var activity = SyscallReader.Parse(Encoding.ASCII.GetBytes(line));
        Assert.Equal(running, activity.Running);
        Assert.Equal(syscall, activity.Syscall);
    }

    [Fact]
    public void Utime_and_stime_are_read_past_a_thread_name_with_spaces_and_parentheses()
    {
        var stat = "123 (my (odd) name) S 1 123 123 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 1 0 100 0 0\n";
        Assert.Equal(380UL * 10_000_000, RunTimeReader.FromStat(Encoding.ASCII.GetBytes(stat)));
    }

    [Fact]
    public void Restart_syscall_reads_as_the_syscall_it_restarts()
    {
        var history = new SyscallHistory();
        var restart = SyscallNames.Number(SyscallNames.CurrentArchitecture, "restart_syscall");
        var sleep = SyscallNames.Number(SyscallNames.CurrentArchitecture, "clock_nanosleep");
        Assert.Equal(restart, history.Resolve(7, restart)); // nothing known yet
        Assert.Equal(sleep, history.Resolve(7, sleep));
        Assert.Equal(sleep, history.Resolve(7, restart));
        Assert.Equal(restart, history.Resolve(8, restart));
    }

    [Fact]
    public void Cpu_deltas_start_at_zero_and_never_go_negative()
    {
        var clock = new ThreadClock();
        Assert.Equal(0, Sample(clock, 1, 5_000, keep: true));
        Assert.Equal(2_500, Sample(clock, 1, 7_500, keep: true));
        Assert.Equal(0, Sample(clock, 1, null, keep: true));
        Assert.Equal(0, Sample(clock, 1, 7_000, keep: true)); // a new thread reusing the id
        Assert.Equal(100, Sample(clock, 1, 7_100, keep: true));
    }

    [Fact]
    public void Cpu_of_a_sample_not_kept_goes_to_the_next_kept_one()
    {
        var clock = new ThreadClock();
        Sample(clock, 1, 1_000, keep: true);
        Assert.Equal(500, Sample(clock, 1, 1_500, keep: false)); // the snapshot failed, or the thread was skipped
        Assert.Equal(900, Sample(clock, 1, 1_900, keep: true));
        // A kept sample that carries less than the reading (a reused idle stack carries 0) leaves the rest.
        clock.BeginSnapshot();
        Assert.Equal(100, clock.CpuSinceLastSample(1, 2_000));
        clock.Settle([Stack(1, 0)]);
        Assert.Equal(300, Sample(clock, 1, 2_200, keep: true));
        // A thread never kept has no start: its first kept sample counts 0.
        Assert.Equal(0, Sample(clock, 2, 4_000, keep: false));
        Assert.Equal(0, Sample(clock, 2, 9_000, keep: true));
    }

    static long Sample(ThreadClock clock, int tid, ulong? runTime, bool keep)
    {
        clock.BeginSnapshot();
        var cpu = clock.CpuSinceLastSample(tid, runTime);
        if (keep) clock.Settle([Stack(tid, cpu)]);
        return cpu;
    }

    static ThreadStack Stack(int tid, long cpu) => new(tid, new ThreadIdentity(tid, null, null, null), []) { CpuNs = cpu };

    [Fact]
    public void Thread_selection_matches_any_of_the_names_and_rejects_bad_patterns()
    {
        var selection = ThreadSelection.TryParse("^Worker|pool", out _)!;
        Assert.True(selection.Matches("Worker 3", null, null));
        Assert.True(selection.Matches(null, ".NET TP Worker", "thread pool worker"));
        Assert.False(selection.Matches("Main", "app", "main thread"));
        Assert.Null(ThreadSelection.TryParse("(unclosed", out var error));
        Assert.NotNull(error);
    }
}
