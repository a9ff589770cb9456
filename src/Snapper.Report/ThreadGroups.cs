using System.Text.RegularExpressions;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// Threads that do the same job, shown as one in the flame graph unless split: those with the same runtime role and no
/// name of their own (thread-pool workers), and those whose names differ only in numbers ("Orders waiter 1", "Orders
/// waiter 2"). On a service, per-thread towers of near-identical workers hid what the workers did.
/// </summary>
public static partial class ThreadGroups
{
    /// <summary>Each thread's group label, in order: "thread pool worker (12 threads)", or the thread's own label when it is alone.</summary>
    public static string[] Labels(IReadOnlyList<ThreadInfo> threads)
    {
        var keys = threads.Select(Key).ToArray();
        var sizes = keys.GroupBy(k => k, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return threads.Select((thread, i) => sizes[keys[i]] > 1 ? $"{keys[i]} ({sizes[keys[i]]} threads)" : thread.Label).ToArray();
    }

    /// <summary>The name shown for the thread with every run of digits made '#'.</summary>
    static string Key(ThreadInfo thread) => Digits().Replace(thread.DisplayName, "#");

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();
}
