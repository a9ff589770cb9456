using System.Runtime.InteropServices;

namespace Snapper.TestTarget;

/// <summary>Ends the process the abrupt ways a real service can end while Snapper samples it.</summary>
static class Dying
{
    [DllImport("libc", EntryPoint = "execv")]
    static extern int Execv(string path, string?[] argv);

    [DllImport("libc", EntryPoint = "kill")]
    static extern int Kill(int pid, int signal);

    public static void Die(string how)
    {
        switch (how)
        {
            case "exception":
                // On a thread of its own, as a crash in a worker would: unhandled, it takes the process down.
                var thread = new Thread(() => throw new InvalidOperationException("the target crashed on purpose"));
                thread.Start();
                thread.Join();
                break;
            case "failfast":
                Environment.FailFast("the target failed fast on purpose");
                break;
            case "kill":
                Kill(Environment.ProcessId, 9);
                break;
            case "exec":
                Execv("/bin/sleep", ["sleep", "30", null]);
                break;
        }
        Thread.Sleep(Timeout.Infinite);
    }
}
