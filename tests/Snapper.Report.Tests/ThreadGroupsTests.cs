using Snapper.Report;
using Snapper.Store;

namespace Snapper.Report.Tests;

public sealed class ThreadGroupsTests
{
    [Fact]
    public void Threads_of_one_role_or_numbered_names_share_a_label_and_the_others_keep_theirs()
    {
        ThreadInfo[] threads =
        [
            new(1, 101, 1, "Main"),
            new(2, 102, 5, null, ".NET TP Worker", "thread pool worker"),
            new(3, 103, 6, null, ".NET TP Worker", "thread pool worker"),
            new(4, 104, 7, "Orders waiter 1"),
            new(5, 105, 8, "Orders waiter 12"),
            new(6, 106, 9, "Worker"),
            new(7, 107, 10, "Worker"),
            new(8, 108, 11, "Stock waiter 1"),
            new(9, 109, 12, null, ".NET Finalizer", "finalizer"),
        ];

        var labels = ThreadGroups.Labels(threads);

        Assert.Equal([
            "Main (tid 101)",
            "thread pool worker (2 threads)", "thread pool worker (2 threads)",
            "Orders waiter # (2 threads)", "Orders waiter # (2 threads)",
            "Worker (2 threads)", "Worker (2 threads)",
            "Stock waiter 1 (tid 108)", // alone: its own label, number and all
            "finalizer (tid 109)",
        ], labels);
    }
}
