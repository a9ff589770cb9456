namespace Snapper.Sampling.Unwind;

/// <summary>How a register of the caller is found (DWARF register rules; the expression rules are not supported).</summary>
enum RuleKind : byte
{
    /// <summary>No rule: a callee-saved register keeps its value, any other is unknown (the SysV convention).</summary>
    Default,
    SameValue,
    Undefined,
    /// <summary>Saved at CFA + Value.</summary>
    Offset,
    /// <summary>Is CFA + Value.</summary>
    ValOffset,
    /// <summary>Is in register Value.</summary>
    Register,
    /// <summary>A DWARF expression: the value cannot be recovered.</summary>
    Unsupported,
}

readonly record struct RegisterRule(RuleKind Kind, long Value);

/// <summary>How the canonical frame address is computed.</summary>
enum CfaKind : byte
{
    /// <summary>register + offset.</summary>
    RegisterOffset,
    /// <summary>The expression every x86-64 PLT uses: rsp + offset, plus 8 once rip is past the stub's push (see <see cref="UnwindRow"/>).</summary>
    Plt,
    /// <summary>Any other expression: the frame cannot be unwound.</summary>
    Unsupported,
}

/// <summary>
/// One row of the call frame table for one pc: how to find the CFA and each register of the caller. Registers
/// are numbered as DWARF numbers them on x86-64 (0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8-15
/// r8-r15, 16 the return address). Rows are cached and shared: never changed once built.
/// </summary>
sealed class UnwindRow
{
    public const int Registers = 17;
    public const int ReturnAddress = 16;
    public const int Rsp = 7;

    public CfaKind CfaKind { get; init; }
    public int CfaRegister { get; init; }
    public long CfaOffset { get; init; }
    /// <summary>For <see cref="CfaKind.Plt"/>: CFA = rsp + CfaOffset + (((rip &amp; PltMask) &gt;= PltThreshold ? 1 : 0) &lt;&lt; PltShift).</summary>
    public byte PltMask { get; init; }
    public byte PltThreshold { get; init; }
    public byte PltShift { get; init; }
    public required RegisterRule[] Rules { get; init; }
    /// <summary>The frame is a signal trampoline: its caller's pc is the interrupted instruction, not a return address.</summary>
    public bool IsSignalFrame { get; init; }
}
