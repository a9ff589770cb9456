using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// The ids Snapper's /proc and ptrace know the target's threads by, from the ids its runtime knows them by
/// (<see cref="ClrThread.OSThreadId"/>, a System.Threading.Lock's owner, a runtime Thread's id field), and back. They
/// are the same unless the target runs in a PID namespace below Snapper's (a container seen from its host): then each
/// thread's /proc/PID/task/TID/status "NSpid" line pairs them, Snapper's id first and the namespace's last. Threads are
/// paired again when an id is not known (a thread started since), at most every <see cref="RereadMs"/> ms. The DAC is
/// always asked by the runtime's id.
/// </summary>
sealed class ThreadIds
{
    const int RereadMs = 20;

    readonly int _pid;
    readonly Dictionary<uint, int> _snapperByRuntime = [];
    readonly Dictionary<int, uint> _runtimeBySnapper = [];
    long? _readAt;

    ThreadIds(int pid, bool namespaced) => (_pid, Namespaced) = (pid, namespaced);

    /// <summary>For a target whose ids are Snapper's (the attach engine, which ClrMD drives itself).</summary>
    public static readonly ThreadIds Same = new(0, false);

    public static ThreadIds For(int pid) => new(pid, TargetProcess.PidInOwnNamespace(pid) is not null);

    /// <summary>Whether the target's ids differ from Snapper's.</summary>
    public bool Namespaced { get; }

    /// <summary>Snapper's id of the thread; 0 when it is not (or no longer) a thread of the target.</summary>
    public uint Of(ClrThread thread) => Of(thread.OSThreadId);

    /// <inheritdoc cref="Of(ClrThread)"/>
    public uint Of(uint runtimeTid)
    {
        if (!Namespaced || runtimeTid == 0) return runtimeTid;
        if (_snapperByRuntime.TryGetValue(runtimeTid, out var tid) || Reread() && _snapperByRuntime.TryGetValue(runtimeTid, out tid)) return (uint)tid;
        return 0;
    }

    /// <summary>The runtime's id of the thread Snapper knows as <paramref name="tid"/>; 0 when not known.</summary>
    public uint RuntimeOf(int tid)
    {
        if (!Namespaced) return (uint)tid;
        if (_runtimeBySnapper.TryGetValue(tid, out var id) || Reread() && _runtimeBySnapper.TryGetValue(tid, out id)) return id;
        return 0;
    }

    bool Reread()
    {
        if (_readAt is { } readAt && Environment.TickCount64 - readAt < RereadMs) return false;
        _readAt = Environment.TickCount64;
        _snapperByRuntime.Clear();
        _runtimeBySnapper.Clear();
        foreach (var tid in ProcFs.ListThreads(_pid))
            if (ProcFs.NamespaceTids(_pid, tid) is [var mine, .., var theirs])
            {
                _snapperByRuntime[(uint)theirs] = mine;
                _runtimeBySnapper[mine] = (uint)theirs;
            }
        return true;
    }
}
