using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// A frame as the walk met it, before naming: naming waits until the target runs again. <see cref="InstructionPointer"/>
/// is where the frame is executing (for a caller, the return address); <see cref="ILOffset"/> is its IL offset, or -1
/// when unknown (read while the target is stopped, see <see cref="ILOffsets"/>). <see cref="StackPointer"/> is where
/// the frame is on the stack (a managed frame's stack pointer, a runtime frame's own address): native frames are
/// spliced in by it.
/// </summary>
readonly record struct RawFrame(ClrStackFrameKind Kind, ClrMethod? Method, string? FrameName, ulong InstructionPointer = 0, int ILOffset = -1,
    ulong StackPointer = 0)
{
    /// <summary>The same frame whatever the instruction pointer: ClrMD yields each explicit runtime frame twice.</summary>
    public bool SameFrameAs(RawFrame other) => Kind == other.Kind && Method == other.Method && FrameName == other.FrameName;
}

/// <summary>What the runtime itself says a thread is for.</summary>
[Flags]
enum RuntimeThreadFlags
{
    None = 0,
    Finalizer = 1,
    GarbageCollector = 2,
    ThreadPoolWorker = 4,
    CompletionPort = 8,
}

/// <summary>
/// One thread's raw frames, innermost first, as ClrMD yields them. <see cref="OutermostStackPointer"/> is the
/// highest frame stack pointer seen: the stack memory below it is what the walk depended on.
/// <see cref="ThreadAddress"/> is the runtime's Thread object (ClrThread.Address). <see cref="NativeLeafModule"/> names the library of native code the thread was stopped in, when its managed
/// frames had to be recovered from below that code (see NativeLeafRecovery). <see cref="NativeFrames"/> are the native
/// frames above the managed ones, when native unwinding is on and the thread was stopped in native code.
/// </summary>
sealed record RawThread(int OsThreadId, int ManagedThreadId, ulong ThreadAddress, RawFrame[] Frames, ulong OutermostStackPointer,
    string? NativeLeafModule = null, RuntimeThreadFlags Flags = RuntimeThreadFlags.None)
{
    public Unwind.NativeStack? NativeFrames { get; init; }

    /// <summary>
    /// The instruction pointer of a thread whose innermost frame is not managed code (0 when it is, or not known): it
    /// names the leaf when the frames alone would not (see <see cref="Unwind.LeafNames"/>).
    /// </summary>
    public ulong LeafAddress { get; init; }

    /// <summary>True when the thread was executing native code: recovered from below it, or under a transition frame (a P/Invoke).</summary>
    public bool InNativeCode => NativeLeafModule is not null || (Frames.Length > 0 && Frames[0].Kind != ClrStackFrameKind.ManagedMethod);
}
