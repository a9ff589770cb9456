using Snapper.Sampling;
using Snapper.Sampling.ClrMd;
using Snapper.Sampling.Linux;
using Snapper.Store;

namespace Snapper.Tests.Unit;

/// <summary>
/// Blocked-thread reuse (StackReuse) decides, from a thread's syscall registers, its run time and a hash of its stack
/// memory, that its stack is the one last walked; a wrong yes stores a stack the thread is not in. Here on synthetic
/// memory, one decision at a time: a remembered stack comes back only while every one of those says "unchanged".
/// </summary>
public sealed class StackReuseDecisionTests
{
    const int Tid = 101;
    const ulong Sp = 0x7000_1000, Pc = 0x4000_0010, Outermost = 0x7000_1800;
    static readonly ThreadStack Walked = new(Tid, new ThreadIdentity(7, "Worker", "Worker", null), [new FrameInfo(FrameKind.Managed, "App.dll", "App.Worker", "Wait")]);

    readonly FakeMemory _memory = new();
    readonly StackReuse _reuse;

    public StackReuseDecisionTests()
    {
        _memory.Fill(Sp, (int)(Outermost - Sp + 256), seed: 1);
        _reuse = new StackReuse(new StackMemoryHash(_memory));
    }

    static ThreadActivity Blocked(ulong sp = Sp, ulong pc = Pc) => new(Running: false, sp, pc);

    /// <summary>A snapshot that found the thread blocked, stopped it where the survey saw it and walked it.</summary>
    void WalkAndRemember(ulong stoppedSp = Sp, ulong stoppedPc = Pc)
    {
        Assert.Null(_reuse.TryReuse(Tid, Blocked(), runTime: 5_000));
        _reuse.HashWhileStopped(Tid, stoppedSp, stoppedPc, Outermost);
        _reuse.Remember(Tid, Walked);
    }

    [Fact]
    public void A_thread_blocked_where_it_was_with_its_stack_memory_unchanged_gets_its_walk_back()
    {
        WalkAndRemember();

        Assert.Same(Walked, _reuse.TryReuse(Tid, Blocked(), runTime: 5_000));
    }

    [Fact]
    public void A_byte_changed_anywhere_up_to_the_outermost_frame_means_a_new_walk()
    {
        WalkAndRemember();
        _memory.Poke(Outermost - 8, 0xFF);

        Assert.Null(_reuse.TryReuse(Tid, Blocked(), runTime: 5_000));
    }

    [Fact]
    public void Memory_beyond_the_outermost_frame_may_change()
    {
        WalkAndRemember();
        _memory.Poke(Outermost + 128, 0xFF); // past the hashed extent (the outermost frame plus 64 bytes)

        Assert.Same(Walked, _reuse.TryReuse(Tid, Blocked(), runTime: 5_000));
    }

    [Theory]
    [InlineData(Sp + 16, Pc)] // blocked again deeper or shallower
    [InlineData(Sp, Pc + 4)] // another syscall site at the same depth
    public void Blocked_elsewhere_means_a_new_walk(ulong sp, ulong pc)
    {
        WalkAndRemember();

        Assert.Null(_reuse.TryReuse(Tid, Blocked(sp, pc), runTime: 5_000));
    }

    [Fact]
    public void A_running_thread_is_never_reused()
    {
        WalkAndRemember();

        Assert.Null(_reuse.TryReuse(Tid, new ThreadActivity(Running: true, Sp, Pc), runTime: 5_000));
    }

    [Fact]
    public void A_walk_from_a_stop_that_was_not_where_the_survey_saw_the_thread_is_not_remembered()
    {
        // The thread ran between the survey and the stop and was stopped at another pc: its walk is of that moment, and
        // remembering it under the survey's registers would hand it out for the wrong place.
        WalkAndRemember(stoppedPc: Pc + 32);

        Assert.Null(_reuse.TryReuse(Tid, Blocked(), runTime: 5_000));
    }

    [Fact]
    public void Once_confirmed_an_unchanged_run_time_reuses_without_reading_memory_while_the_thread_sleeps_where_it_was()
    {
        WalkAndRemember();
        Assert.Same(Walked, _reuse.TryReuse(Tid, Blocked(), runTime: 5_000)); // confirmed at run time 5000
        _memory.Poke(Sp + 8, 0xFF); // not read on this path: the run time says the thread did not run

        Assert.Same(Walked, _reuse.TryReuseIdle(Tid, runTime: 5_000, Blocked()));
        Assert.Null(_reuse.TryReuseIdle(Tid, runTime: 5_001, Blocked())); // it ran
        Assert.Null(_reuse.TryReuseIdle(Tid, runTime: 5_000, new ThreadActivity(Running: true, Sp, Pc))); // woke less than a tick ago
        Assert.Null(_reuse.TryReuseIdle(Tid, runTime: null, Blocked())); // run time not known
    }

    [Fact]
    public void A_walk_named_before_the_modules_lines_were_found_is_walked_again()
    {
        WalkAndRemember();
        _reuse.LinesGeneration++;

        Assert.Null(_reuse.TryReuse(Tid, Blocked(), runTime: 5_000));
    }

    [Fact]
    public void A_thread_gone_is_forgotten()
    {
        WalkAndRemember();
        _reuse.Retain([]);

        Assert.Null(_reuse.TryReuse(Tid, Blocked(), runTime: 5_000));
    }

    /// <summary>Synthetic target memory: one region of bytes, readable through the cache or not alike.</summary>
    sealed class FakeMemory : ITargetMemory
    {
        ulong _base;
        byte[] _bytes = [];

        public void Fill(ulong from, int length, int seed)
        {
            (_base, _bytes) = (from, new byte[length]);
            new Random(seed).NextBytes(_bytes);
        }

        public void Poke(ulong address, byte value) => _bytes[address - _base] = value;

        public int Read(ulong address, Span<byte> buffer) => ReadUncached(address, buffer);

        public int ReadUncached(ulong address, Span<byte> buffer)
        {
            if (address < _base || address >= _base + (ulong)_bytes.Length) return 0;
            var available = _bytes.AsSpan((int)(address - _base));
            var n = Math.Min(available.Length, buffer.Length);
            available[..n].CopyTo(buffer);
            return n;
        }

        public int ReadUncached(List<(ulong From, int Extent)> ranges, Span<byte> buffer)
        {
            var at = 0;
            foreach (var (from, extent) in ranges)
            {
                var n = ReadUncached(from, buffer.Slice(at, extent));
                at += n;
                if (n < extent) break;
            }
            return at;
        }
    }
}
