using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Snapper.Store;

/// <summary>
/// Linux open-file-description locks (fcntl F_OFD_*) on single bytes of a file. They belong to the open file, not
/// to the process: two opens in one process exclude each other as two processes do, and closing another descriptor
/// of the file does not drop them (.NET's FileStream.Lock uses classic POSIX locks, which have neither property). The
/// kernel drops them when the file is closed, however the holder ends: a lock held is a holder alive.
/// </summary>
static partial class FileRangeLock
{
    const int F_OFD_GETLK = 36, F_OFD_SETLK = 37;
    const short F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
    const int EINTR = 4, EAGAIN = 11, EACCES = 13;

    /// <summary>struct flock, the same on x64 and arm64 Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid; // must be 0 for OFD locks
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, ref Flock lockSpec);

    /// <summary>Takes a shared or exclusive lock on byte <paramref name="offset"/>; false when another open file holds a conflicting one.</summary>
    /// <exception cref="IOException">The file system cannot lock.</exception>
    public static bool TryLock(SafeFileHandle file, long offset, bool exclusive)
    {
        var spec = Byte(exclusive ? F_WRLCK : F_RDLCK, offset);
        if (Call(file, F_OFD_SETLK, ref spec) == 0) return true;
        var errno = Marshal.GetLastPInvokeError();
        if (errno is EAGAIN or EACCES) return false;
        throw new IOException($"cannot lock byte {offset}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    public static void Unlock(SafeFileHandle file, long offset)
    {
        var spec = Byte(F_UNLCK, offset);
        Call(file, F_OFD_SETLK, ref spec);
    }

    /// <summary>Whether another open file holds a lock on byte <paramref name="offset"/>. Takes none itself, so needs only read access.</summary>
    /// <exception cref="IOException">The file system cannot tell.</exception>
    public static bool IsLockedByOthers(SafeFileHandle file, long offset)
    {
        var spec = Byte(F_WRLCK, offset); // a write lock conflicts with every lock: asks about them all
        if (Call(file, F_OFD_GETLK, ref spec) != 0)
            throw new IOException($"cannot test the lock on byte {offset}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        return spec.Type != F_UNLCK;
    }

    static Flock Byte(short type, long offset) => new() { Type = type, Whence = 0 /* SEEK_SET */, Start = offset, Length = 1 };

    static int Call(SafeFileHandle file, int command, ref Flock spec)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            int result;
            while ((result = Fcntl((int)file.DangerousGetHandle(), command, ref spec)) != 0 && Marshal.GetLastPInvokeError() == EINTR) { }
            return result;
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }
}
