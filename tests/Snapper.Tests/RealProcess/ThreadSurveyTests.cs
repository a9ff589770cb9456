using System.Diagnostics;
using Snapper.Sampling.Linux;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Both BPF readers (the syscall program and the older task iterator) must say what /proc says: the same threads, the
/// same run times (read in between two /proc reads), and for a blocked thread the same syscall, stack pointer and pc
/// as /proc/PID/task/TID/syscall.
/// </summary>
public sealed class ThreadSurveyTests
{
    [SkippableTheory]
    [InlineData(Reader.Program)]
    [InlineData(Reader.Iterator)]
    public void The_bpf_reader_agrees_with_proc(Reader kind)
    {
        using var target = BenchTarget(spinning: 1, blocked: 6);
        using var bpf = OpenBpf(target.Pid, kind);
        using var proc = new ProcThreadSurvey(target.Pid);

        var procTids = proc.Take();
        var before = procTids.ToDictionary(t => t, t => (RunTime: proc.RunTime(t), Activity: proc.Activity(t), Switches: ProcFs.ReadContextSwitches(target.Pid, t)));
        var bpfTids = bpf.Take();
        var seen = bpfTids.ToDictionary(t => t, t => (RunTime: bpf.RunTime(t), Activity: bpf.Activity(t)));
        var after = procTids.ToDictionary(t => t, t => (RunTime: proc.RunTime(t), Activity: proc.Activity(t), Switches: ProcFs.ReadContextSwitches(target.Pid, t)));

        Assert.Equal(procTids.Order(), bpfTids.Order());
        var blockedCompared = 0;
        foreach (var tid in procTids)
        {
            Assert.InRange(seen[tid].RunTime!.Value, before[tid].RunTime!.Value, after[tid].RunTime!.Value);
            Assert.InRange((long)seen[tid].Activity.Switches, before[tid].Switches!.Value, after[tid].Switches!.Value);
            // A thread that did not run across both /proc reads was where it was all along: the iterator must agree exactly.
            if (before[tid].RunTime != after[tid].RunTime || before[tid].Activity != after[tid].Activity || before[tid].Activity.Running
                || before[tid].Switches != after[tid].Switches) continue;
            // /proc's syscall file has no switch count (its status file has, compared above).
            Assert.Equal(before[tid].Activity, seen[tid].Activity with { Switches = 0 });
            Assert.Equal(before[tid].Switches, (long)seen[tid].Activity.Switches);
            blockedCompared++;
        }
        Assert.True(blockedCompared >= 6, $"only {blockedCompared} blocked threads held still for the comparison");
        Assert.Contains(bpfTids, t => bpf.Activity(t).Running); // the spinner
        Assert.Equal(bpfTids, bpf.Take()); // the same set comes back as the same array
    }

    [SkippableTheory]
    [InlineData(Reader.Program)]
    [InlineData(Reader.Iterator)]
    public void A_process_that_exited_has_no_threads(Reader kind)
    {
        using var target = BenchTarget(spinning: 0, blocked: 2);
        using var bpf = OpenBpf(target.Pid, kind);
        Assert.NotEmpty(bpf.Take());
        target.Process.Kill();
        target.Process.WaitForExit();
        Assert.Empty(bpf.Take());
    }

    [SkippableTheory]
    [InlineData(Reader.Program)]
    [InlineData(Reader.Iterator)]
    public void Hundreds_of_threads_are_all_read(Reader kind)
    {
        // 56 bytes a thread: 700 threads are more than the iterator's kernel hands over in one read (32 KiB) and than its
        // first buffer, and more than the syscall program's first map holds (it grows it twice).
        using var target = BenchTarget(spinning: 0, blocked: 700);
        using var bpf = OpenBpf(target.Pid, kind);
        using var proc = new ProcThreadSurvey(target.Pid);
        Assert.Equal(proc.Take().Order(), bpf.Take().Order());
    }

    public enum Reader { Program, Iterator }

    /// <summary>
    /// The reader, or a skip saying why this kernel or user cannot have it. In CI (root, a kernel with BTF) a missing
    /// iterator fails the test, and so does a missing syscall program on Linux 6.7 or later.
    /// </summary>
    static BpfThreadSurvey OpenBpf(int pid, Reader kind)
    {
        string? whyNot = "no kernel BTF";
        ITaskReader? reader = null;
        if (Btf.LoadKernel() is { } btf && TaskRecordWriter.Of(btf) is { } writer)
            reader = kind == Reader.Program ? TaskSnapshot.TryOpen(pid, btf, writer, out whyNot) : TaskIterator.TryOpen(pid, btf, writer, out whyNot);
        if (reader is not null) return new BpfThreadSurvey(pid, reader);
        var required = kind == Reader.Iterator || Environment.OSVersion.Version >= new Version(6, 7);
        Assert.False(Prerequisite.InCi && required, $"CI runs as root on a kernel with BTF: {whyNot}");
        throw new SkipException($"no BPF {kind} reader here: {whyNot}");
    }

    /// <summary>The benchmark's target, its standard input kept open (it exits at the end of its input).</summary>
    internal static RunningTarget BenchTarget(int spinning, int blocked) =>
        RunningTarget.StartAndWait(new ProcessStartInfo(Dotnet.Host,
            [Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll"), "bench", spinning.ToString(), blocked.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        });
}
