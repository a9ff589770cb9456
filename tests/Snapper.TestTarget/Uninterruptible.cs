using System.Runtime.InteropServices;

namespace Snapper.TestTarget;

/// <summary>
/// A thread that cannot be stopped until the test lets it: it starts /bin/true with posix_spawn, whose child first opens
/// a FIFO for reading. glibc's posix_spawn is a vfork: the calling thread waits in the kernel, uninterruptibly (state D,
/// deaf to ptrace's interrupt), until the child execs, and the child waits until someone opens the FIFO for writing.
/// Then the thread returns and sleeps, as any idle thread.
/// </summary>
static unsafe class Uninterruptible
{
    [DllImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    static extern int FileActionsInit(void* actions);

    [DllImport("libc", EntryPoint = "posix_spawn_file_actions_addopen")]
    static extern int FileActionsAddOpen(void* actions, int fd, string path, int flags, uint mode);

    [DllImport("libc", EntryPoint = "posix_spawn")]
    static extern int PosixSpawn(out int pid, string path, void* actions, void* attributes, string?[] argv, string?[] envp);

    [DllImport("libc", EntryPoint = "waitpid")]
    static extern int WaitPid(int pid, out int status, int options);

    /// <summary>Starts the thread; returns once it is on its way into the spawn (the test waits for state D itself).</summary>
    public static void Start(string fifo)
    {
        using var started = new ManualResetEventSlim();
        new Thread(() => { started.Set(); Spawn(fifo); Thread.Sleep(Timeout.Infinite); }) { Name = "Uninterruptible", IsBackground = true }.Start();
        started.Wait();
    }

    static void Spawn(string fifo)
    {
        var actions = NativeMemory.AllocZeroed(256); // posix_spawn_file_actions_t is 80 bytes in glibc
        if (FileActionsInit(actions) != 0 || FileActionsAddOpen(actions, 0, fifo, 0 /* O_RDONLY */, 0) != 0)
            throw new InvalidOperationException("posix_spawn_file_actions failed");
        var error = PosixSpawn(out var child, "/bin/true", actions, null, ["true", null], [null]);
        if (error != 0) throw new InvalidOperationException($"posix_spawn failed: {error}");
        WaitPid(child, out _, 0);
    }
}
