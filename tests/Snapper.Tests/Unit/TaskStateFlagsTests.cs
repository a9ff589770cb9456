using System.Reflection;
using Snapper.Sampling.Async;

namespace Snapper.Tests.Unit;

/// <summary>
/// The completion bits Snapper reads from a target's tasks (<see cref="TaskStateFlags"/>), checked against live tasks of
/// the runtime the tests run on: CoreLib trims its TaskStateFlags enum away, so the field's value is what can be checked.
/// </summary>
public sealed class TaskStateFlagsTests
{
    static readonly FieldInfo StateFlags = typeof(Task).GetField("m_stateFlags", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("Task.m_stateFlags is gone: the heap walk of dump --async reads it");

    static int FlagsOf(Task task) => (int)StateFlags.GetValue(task)!;

    [Fact]
    public void Completed_tasks_carry_their_completion_bit_and_pending_ones_none()
    {
        var pending = new TaskCompletionSource<int>().Task;
        var canceled = Task.FromCanceled(new CancellationToken(canceled: true));
        var faulted = Task.FromException(new InvalidOperationException());
        var done = Task.FromResult(1);

        Assert.False(TaskStateFlags.IsCompleted(FlagsOf(pending)));
        Assert.Equal(TaskStateFlags.RanToCompletion, FlagsOf(done) & TaskStateFlags.CompletedMask);
        Assert.Equal(TaskStateFlags.Canceled, FlagsOf(canceled) & TaskStateFlags.CompletedMask);
        Assert.Equal(TaskStateFlags.Faulted, FlagsOf(faulted) & TaskStateFlags.CompletedMask);
    }

    [Fact]
    public async Task An_async_methods_task_is_pending_while_it_awaits_and_completed_after()
    {
        var gate = new TaskCompletionSource();
        var running = WaitFor(gate.Task);
        Assert.False(TaskStateFlags.IsCompleted(FlagsOf(running)));
        gate.SetResult();
        await running;
        Assert.True(TaskStateFlags.IsCompleted(FlagsOf(running)));
    }

    static async Task WaitFor(Task gate) => await gate;
}
