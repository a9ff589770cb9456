namespace Snapper.Sampling.Linux;

/// <summary>Reads every thread of one process as the kernel keeps it, with a BPF program (<see cref="Open"/> picks which).</summary>
interface ITaskReader : IDisposable
{
    /// <summary>
    /// One record per thread of the process, read now; empty when the process is gone, or when the read failed (then
    /// <see cref="Failed"/> is true). Valid until the next call.
    /// </summary>
    ReadOnlySpan<TaskRecord> Read();

    /// <summary>True when the last <see cref="Read"/> failed (rather than found no thread).</summary>
    bool Failed { get; }

    /// <summary>Its name in SNAPPER_DEBUG's output.</summary>
    string Description { get; }

    /// <summary>
    /// The cheapest reader this kernel allows: a syscall program run on demand (<see cref="TaskSnapshot"/>, Linux 6.7+),
    /// else an iterator (<see cref="TaskIterator"/>, 6.1+); null with the reasons otherwise.
    /// <paramref name="iteratorOnly"/> skips the first (to compare the two, or should it misbehave on some kernel).
    /// A first read proves the reader works before anyone relies on it.
    /// </summary>
    static ITaskReader? Open(int pid, bool iteratorOnly, out string? whyNot)
    {
        whyNot = null;
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            whyNot = "not x86_64";
            return null;
        }
        if (Btf.LoadKernel() is not { } btf) { whyNot = $"no kernel BTF at {Btf.VmlinuxPath}"; return null; }
        if (TaskRecordWriter.Of(btf) is not { } writer) { whyNot = "the kernel's task_struct lacks a member the programs read"; return null; }
        string? snapshotWhyNot = null;
        if (!iteratorOnly && Proven(TaskSnapshot.TryOpen(pid, btf, writer, out snapshotWhyNot), pid, ref snapshotWhyNot) is { } snapshot)
            return snapshot;
        if (Proven(TaskIterator.TryOpen(pid, btf, writer, out whyNot), pid, ref whyNot) is { } iterator) return iterator;
        if (snapshotWhyNot is not null) whyNot = $"no BPF syscall program ({snapshotWhyNot}), no task iterator ({whyNot})";
        return null;
    }

    /// <summary>
    /// The reader, if its first read names the threads /proc lists: the process's own id among them, and most of the
    /// rest (threads may start or end between the two reads). The kernel numbers threads as the initial PID namespace
    /// does: from inside a container's namespace they are not the ones ptrace and /proc use here.
    /// </summary>
    private static ITaskReader? Proven(ITaskReader? reader, int pid, ref string? whyNot)
    {
        if (reader is null) return null;
        var first = reader.Read();
        whyNot = reader.Failed ? "it could not be read"
            : !SameThreads(first, pid, ProcFs.ListThreads(pid)) ? "its thread ids are not this PID namespace's (is Snapper in a container?)"
            : null;
        if (whyNot is null) return reader;
        reader.Dispose();
        return null;
    }

    private static bool SameThreads(ReadOnlySpan<TaskRecord> records, int pid, int[] listed)
    {
        var common = 0;
        var sawProcess = false;
        foreach (ref readonly var record in records)
        {
            if (Array.IndexOf(listed, record.Tid) >= 0) common++;
            sawProcess |= record.Tid == pid;
        }
        return sawProcess && common * 2 > listed.Length;
    }
}
