namespace Snapper.Sampling.Unwind;

/// <summary>
/// A native frame as the unwinder found it, before naming: the library and the file address to name it by (for
/// a caller, the address inside its call instruction, so a call at a function's very end is not taken for the
/// next function). <see cref="Cfa"/> is the top of the frame on the stack (its canonical frame address), which
/// places it among the runtime's frames (see <see cref="StackSplice"/>).
/// </summary>
readonly record struct NativeFrame(ElfModule Module, ulong Address, ulong Cfa);

/// <summary>
/// The native frames of a stopped thread, innermost first. <see cref="Complete"/> is true when the unwind reached
/// managed code or the thread's first frame; false when it had to stop in the middle (no unwind information for
/// a pc, an unsupported rule, an inconsistent stack, the depth cap): frames between those and the managed ones
/// are then missing.
/// </summary>
sealed record NativeStack(NativeFrame[] InnermostFirst, bool Complete);
