using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>A frame as the walk met it, before naming: naming waits until the target runs again.</summary>
readonly record struct RawFrame(ClrStackFrameKind Kind, ClrMethod? Method, string? FrameName);

/// <summary>
/// One thread's raw frames, innermost first, as ClrMD yields them. <see cref="OutermostStackPointer"/> is the
/// highest frame stack pointer seen: the stack memory below it is what the walk depended on.
/// <see cref="ThreadAddress"/> is the runtime's Thread object (ClrThread.Address). <see cref="NativeLeafModule"/> names the library of native code the thread was stopped in, when its managed
/// frames had to be recovered from below that code (see NativeLeafRecovery).
/// </summary>
sealed record RawThread(int OsThreadId, int ManagedThreadId, ulong ThreadAddress, RawFrame[] Frames, ulong OutermostStackPointer, string? NativeLeafModule = null);
