namespace Snapper.Sampling.Async;

/// <summary>
/// The bits of a Task's <c>m_stateFlags</c> that say it has completed. The runtime's Task.cs has carried these values
/// since .NET Framework 4.5 (its internal TaskStateFlags enum; CoreLib trims the enum away and keeps the constants, so
/// the test that checks them reads live tasks' flags: TaskStateFlagsTests, on the runtime the tests run on).
/// </summary>
public static class TaskStateFlags
{
    public const int Faulted = 0x200000, Canceled = 0x400000, RanToCompletion = 0x1000000;
    public const int CompletedMask = Faulted | Canceled | RanToCompletion;

    public static bool IsCompleted(int stateFlags) => (stateFlags & CompletedMask) != 0;
}
