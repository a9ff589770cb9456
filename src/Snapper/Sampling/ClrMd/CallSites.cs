using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Whether an address in code is a return address: the instruction before it is a call. On x64 a call is E8 rel32 or
/// FF /2 (through a register or memory), with an optional REX prefix; each form's length follows from its ModRM byte,
/// so a call ending exactly at the address can be recognised from the bytes before it.
/// </summary>
static class CallSites
{
    public const int LongestCall = 8; // REX + FF + ModRM + SIB + disp32

    public static bool PrecededByCall(ulong address, ProcessMemory memory)
    {
        if (address < LongestCall) return false;
        Span<byte> before = stackalloc byte[LongestCall];
        return memory.Read(address - LongestCall, before) == LongestCall && EndsWithCall(before);
    }

    /// <summary>Whether the <see cref="LongestCall"/> bytes before an address end with a call instruction.</summary>
    public static bool EndsWithCall(ReadOnlySpan<byte> before)
    {
        if (before.Length != LongestCall) throw new ArgumentException($"expected the {LongestCall} bytes before the address", nameof(before));
        if (before[LongestCall - 5] == 0xE8) return true; // call rel32
        for (var length = 2; length <= LongestCall; length++)
        {
            var at = LongestCall - length;
            if (before[at] == 0xFF && IndirectCallLength(before, at) == length) return true;
            if (at + 1 < LongestCall && before[at] is >= 0x40 and <= 0x4F && before[at + 1] == 0xFF && 1 + IndirectCallLength(before, at + 1) == length)
                return true;
        }
        return false;
    }

    /// <summary>The length of an FF /2 instruction (call r/m64) starting at <paramref name="at"/>, or 0 when it is not one.</summary>
    static int IndirectCallLength(ReadOnlySpan<byte> code, int at)
    {
        if (at + 1 >= code.Length) return 0;
        var modrm = code[at + 1];
        if ((modrm >> 3 & 7) != 2) return 0; // another FF instruction (inc, dec, jmp, push)
        var mod = modrm >> 6;
        var rm = modrm & 7;
        var hasSib = mod != 3 && rm == 4;
        var length = 2 + (hasSib ? 1 : 0);
        switch (mod)
        {
            case 0 when rm == 5: return length + 4; // [rip + disp32]
            case 0 when hasSib: return at + 2 < code.Length && (code[at + 2] & 7) == 5 ? length + 4 : length; // SIB with no base: disp32
            case 0: return length;
            case 1: return length + 1;
            case 2: return length + 4;
            default: return length; // a register
        }
    }
}
