namespace Snapper.Sampling.Linux;

/// <summary>
/// Where each thread's stack ends (its highest address), from the mapping that holds its stack pointer: for threads
/// whose runtime Thread does not know its own stack (one not fully started, or not the runtime's), to tell frames on
/// the thread's own stack from frames the DAC finds on another's. A thread's stack mapping does not move while it lives,
/// so /proc/PID/maps is read only for a thread not met yet (or whose stack pointer left the mapping remembered).
/// </summary>
sealed class ThreadStacks(int pid)
{
    readonly Dictionary<int, (ulong Start, ulong End)> _stacks = new();

    /// <summary>The end of the mapping holding <paramref name="sp"/>; null when it cannot be read.</summary>
    public ulong? TopOf(int tid, ulong sp) => MappingOf(tid, sp)?.End;

    /// <summary>The mapping holding <paramref name="sp"/>, the thread's stack; null when it cannot be read.</summary>
    public (ulong Start, ulong End)? MappingOf(int tid, ulong sp)
    {
        if (_stacks.TryGetValue(tid, out var known) && known.Start <= sp && sp < known.End) return known;
        if (Find(sp) is not { } mapping) return null;
        _stacks[tid] = mapping;
        return mapping;
    }

    /// <summary>Forgets threads that are gone.</summary>
    public void Retain(HashSet<int> live) => _stacks.KeepOnly(live);

    (ulong Start, ulong End)? Find(ulong address)
    {
        try
        {
            foreach (var mapping in ProcFs.ReadMappings(pid))
            {
                if (mapping.Start <= address && address < mapping.End) return (mapping.Start, mapping.End);
                if (mapping.Start > address) return null; // the lines are sorted by address
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The target is going away; the next sample finds out.
        }
        return null;
    }
}
