using System.Diagnostics;
using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Async;

namespace Snapper.Sampling.ClrMd.Async;

/// <summary>
/// Finds every pending task on the GC heap of a held target, for <c>snapper dump --async</c>: walks the heap's objects
/// segment by segment, keeps the tasks whose state flags say they have not completed, and reads, for each, who awaits it
/// (<see cref="ContinuationAwaiters"/>) and, for an async method's box, its state machine and what it awaits. Must run
/// while every thread of the target is held, on the session's thread, with the DAC's caches fresh: the DAC reads the
/// heap's metadata, and the heap must not change under it. Bounded by a deadline: past it the walk stops and says how
/// much of the heap it covered. Returns plain data only.
/// </summary>
static class AsyncHeapWalk
{
    const int ObjectsBetweenClockChecks = 256;

    public static PendingAsyncHeap Walk(ClrRuntime runtime, long deadlineTimestamp, TimeSpan budget)
    {
        var started = Stopwatch.GetTimestamp();
        var heap = runtime.Heap;
        var heapBytes = 0L;
        foreach (var segment in heap.Segments) heapBytes += (long)segment.ObjectRange.Length;
        if (!heap.CanWalkHeap)
            return new PendingAsyncHeap([], new HeapWalkCoverage(false, false, 0, 0, heapBytes, 0, 0, Stopwatch.GetElapsedTime(started), budget));

        var memory = runtime.DataTarget.DataReader;
        var layouts = new TaskLayouts(memory.PointerSize);
        var awaiters = new ContinuationAwaiters(heap, memory, layouts);
        var machines = new StateMachines(heap, memory, layouts);
        var pending = new List<PendingTask>();
        long objects = 0, bytesWalked = 0;
        int tasks = 0, completed = 0;
        var complete = true;
        var reading = 0L; // timestamp ticks spent reading pending tasks
        var range = default(MemoryRange);
        bool PastDeadline(ulong at)
        {
            if (Stopwatch.GetTimestamp() <= deadlineTimestamp) return false;
            complete = false;
            bytesWalked += (long)(at - range.Start); // the part of this segment walked
            return true;
        }
        foreach (var segment in heap.Segments)
        {
            range = segment.ObjectRange;
            foreach (var obj in segment.EnumerateObjects(carefully: true))
            {
                if (++objects % ObjectsBetweenClockChecks == 1 && PastDeadline(obj.Address)) break; // from the first: the stops may have used the budget
                if (obj.Type is not { } type || layouts.Of(type) is not { } layout) continue;
                if (!memory.Read(obj.Address + (ulong)layout.StateFlagsOffset, out int flags)) continue; // unreadable: neither
                tasks++;
                if (TaskStateFlags.IsCompleted(flags))
                {
                    completed++;
                    continue;
                }
                // Read at once, so that a walk cut short by its budget still names what it found. The first box of a
                // state machine type costs the most (see TaskLayouts.StateMachineOf): the clock is looked at after each.
                var before = Stopwatch.GetTimestamp();
                pending.Add(Read(obj.Address, layout, memory, awaiters, machines));
                reading += Stopwatch.GetTimestamp() - before;
                if (PastDeadline(obj.Address)) break;
            }
            if (!complete) break;
            bytesWalked += (long)range.Length;
        }
        var coverage = new HeapWalkCoverage(true, complete, objects, bytesWalked, heapBytes, tasks, completed, Stopwatch.GetElapsedTime(started), budget,
            Stopwatch.GetElapsedTime(0, reading));
        return new PendingAsyncHeap(pending, coverage);
    }

    static PendingTask Read(ulong address, TaskLayout layout, IDataReader memory, ContinuationAwaiters awaiters, StateMachines machines)
    {
        var awaitedBy = new List<ulong>();
        if (memory.ReadPointer(address + (ulong)layout.ContinuationOffset, out var continuation)) awaiters.AddAwaiters(continuation, awaitedBy);
        var (machine, awaits) = layout.IsBox ? machines.Read(address, layout) : (null, null);
        return new PendingTask(address, layout.TypeName, machine, awaitedBy, awaits);
    }
}
