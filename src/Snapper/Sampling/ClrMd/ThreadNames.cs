using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// The OS name (comm) of each thread, read once per thread id: reading /proc for every thread on every sample would
/// cost more than the walk. .NET sets comm from Thread.Name when a named thread starts (15 characters at most).
/// </summary>
sealed class ThreadNames(int pid)
{
    readonly Dictionary<int, string?> _names = new();

    public string? Get(int tid)
    {
        if (!_names.TryGetValue(tid, out var name))
            _names[tid] = name = ProcFs.ReadThreadComm(pid, tid);
        return name;
    }
}
