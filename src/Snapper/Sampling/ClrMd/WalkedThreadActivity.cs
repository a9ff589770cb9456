using Snapper.Sampling.Linux;
using Snapper.Store;

namespace Snapper.Sampling.ClrMd;

/// <summary>Where a walked thread's instruction pointer was at the sample.</summary>
static class WalkedThreadActivity
{
    /// <summary>
    /// The registers read while the thread was stopped say it best (orig_rax: a syscall number, or negative in user
    /// code); without them, what /proc said just before the stop.
    /// </summary>
    public static (SampleActivity Activity, int Syscall) Of(RawThread thread, long? stoppedSyscall, ThreadActivity beforeStop, SyscallHistory history)
    {
        var inSyscall = stoppedSyscall switch
        {
            >= 0 => (int)stoppedSyscall.Value,
            null when !beforeStop.Running => beforeStop.Syscall,
            _ => -1,
        };
        if (inSyscall >= 0) return (SampleActivity.Syscall, history.Resolve(thread.OsThreadId, inSyscall));
        return (thread.InNativeCode ? SampleActivity.NativeCode : SampleActivity.ManagedCode, -1);
    }
}
