namespace Snapper.Sampling.Linux;

/// <summary>
/// Whether a thread stopped in a system call was asleep in it. PTRACE_INTERRUPT wakes an interruptible sleep; the call
/// then returns, to be restarted after the stop, with one of the kernel's restart codes (or EINTR) in rax. A thread that
/// was running in the kernel, or had been woken, finishes its call instead and stops with the call's own result.
/// </summary>
static class InterruptedSleep
{
    const long EINTR = 4, ERESTARTSYS = 512, ERESTARTNOINTR = 513, ERESTARTNOHAND = 514, ERESTART_RESTARTBLOCK = 516;

    /// <param name="registers">The registers of a thread stopped in a system call (orig_rax not negative).</param>
    public static bool Of(in Native.UserRegs registers) =>
        -(long)registers.Rax is EINTR or ERESTARTSYS or ERESTARTNOINTR or ERESTARTNOHAND or ERESTART_RESTARTBLOCK;
}
