using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// One compiled version of a method, as the fast walk needs it: its extent, its method, and how to unwind its body.
/// <see cref="Unwind"/> is null when its frames cannot be proven from the stack alone (unwind info not found or not
/// understood). Its funclets (catch, filter and finally handlers, after the body) come with their own unwind info.
/// </summary>
sealed record CompiledCode(ulong Start, ulong End, ulong BodyEnd, ClrMethod? Method, X64UnwindInfo? Unwind)
{
    /// <summary>The funclets, in address order; a funclet's unwind info is null when it is not understood.</summary>
    public IReadOnlyList<Funclet> Funclets { get; init; } = [];

    /// <summary>
    /// For code described without unwind info: when to ask the runtime again (Environment.TickCount64). Code met while
    /// the runtime was still publishing it can lack its function table for a moment, and kept so forever it sent every
    /// walk through that method to the DAC (127 DAC walks in 20 s of ShopService, all at one WriteFileAsync address).
    /// </summary>
    public long DescribeAgainAt { get; init; } = long.MaxValue;

    /// <summary>The funclet holding <paramref name="address"/>, if any.</summary>
    public Funclet? FuncletAt(ulong address)
    {
        foreach (var funclet in Funclets)
            if (funclet.Start <= address && address < funclet.End) return funclet;
        return null;
    }

    /// <param name="returnAddress">The address follows a call (a caller's frame): one just past a body with no
    /// funclets after it is in the body, its last instruction being that call.</param>
    public bool InBody(ulong address, bool returnAddress) =>
        Start <= address && (address < BodyEnd || (returnAddress && address == BodyEnd && BodyEnd == End));
}

/// <summary>A funclet of a compiled method: its extent and how to unwind its frame.</summary>
sealed record Funclet(ulong Start, ulong End, X64UnwindInfo? Unwind);
