using System.Runtime.InteropServices;

namespace Snapper.Tests.Infrastructure;

static partial class Native
{
    public const int SIGINT = 2, SIGKILL = 9, SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int MakeFifo(string path, uint mode);
}
