using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// One compiled version of a method, as the fast walk needs it: its extent, its method, and how to unwind its body.
/// <see cref="Unwind"/> is null when its frames cannot be proven from the stack alone (unwind info not found or not
/// understood); a frame in a funclet (a catch or finally handler, outside the body) is not walked fast either.
/// </summary>
sealed record CompiledCode(ulong Start, ulong End, ulong BodyEnd, ClrMethod? Method, X64UnwindInfo? Unwind)
{
    /// <param name="returnAddress">The address follows a call (a caller's frame): one just past a body with no
    /// funclets after it is in the body, its last instruction being that call.</param>
    public bool InBody(ulong address, bool returnAddress) =>
        Start <= address && (address < BodyEnd || (returnAddress && address == BodyEnd && BodyEnd == End));
}
