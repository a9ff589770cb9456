using System.Buffers.Binary;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// A function's x64 unwind information in the Windows UNWIND_INFO format, which CoreCLR's JIT and crossgen emit on
/// Linux too (CFI is only for NativeAOT), with CoreCLR's UWOP_SET_FPREG_LARGE. Parsed once per compiled method, it
/// unwinds a frame exactly at any instruction: a caller at its call site, and the innermost frame in its prolog
/// (only the operations already executed are undone) or in an epilog (recognised from the code, as the Windows
/// unwinder does, and emulated). What the format allows and the JIT does not emit (chained info, machine frames,
/// version 2 epilog codes) is refused: the thread is then walked by the DAC.
/// </summary>
sealed class X64UnwindInfo
{
    const int Rbp = 5;

    enum Op : byte { PushNonVol = 0, AllocLarge = 1, AllocSmall = 2, SetFp = 3, SaveNonVol = 4, SaveNonVolFar = 5, SaveXmm128 = 8, SaveXmm128Far = 9, SetFpLarge = 11 }

    /// <param name="Value">Bytes allocated (alloc), the register (push, save), or the frame register's offset (set fp).</param>
    /// <param name="Offset">For a save: where, from the stack pointer of that moment.</param>
    readonly record struct Code(byte CodeOffset, Op Op, ulong Value, ulong Offset = 0);

    readonly Code[] _codes;
    readonly byte _prologSize;
    readonly byte _frameRegister;

    X64UnwindInfo(Code[] codes, byte prologSize, byte frameRegister)
    {
        _codes = codes;
        _prologSize = prologSize;
        _frameRegister = frameRegister;
    }

    /// <summary>The function sets a frame register (RBP) in its prolog.</summary>
    public bool SetsFrameRegister => _codes.Any(c => c.Op == Op.SetFp);

    /// <summary>Bytes needed to parse the info whose first 4 bytes are <paramref name="header"/>.</summary>
    public static int SizeOf(ReadOnlySpan<byte> header) => header.Length < 4 ? 4 : 4 + 2 * header[2];

    public static X64UnwindInfo? Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4) return null;
        var version = data[0] & 7;
        var flags = data[0] >> 3;
        if (version != 1 || (flags & 4) != 0) return null; // chained info: not emitted by the JIT
        var count = data[2];
        var frameRegister = (byte)(data[3] & 0xF);
        var frameOffset = (ulong)(data[3] >> 4) * 16;
        if (data.Length < 4 + 2 * count) return null;
        var slots = data.Slice(4, 2 * count);
        var codes = new List<Code>(count);
        for (var i = 0; i < count;)
        {
            var codeOffset = slots[2 * i];
            var op = (Op)(slots[2 * i + 1] & 0xF);
            var info = (ulong)(slots[2 * i + 1] >> 4);
            switch (op)
            {
                case Op.PushNonVol: codes.Add(new(codeOffset, op, info)); i += 1; break;
                case Op.AllocSmall: codes.Add(new(codeOffset, op, info * 8 + 8)); i += 1; break;
                case Op.AllocLarge when info == 0 && i + 1 < count: codes.Add(new(codeOffset, op, Slot(slots, i + 1) * 8UL)); i += 2; break;
                case Op.AllocLarge when info == 1 && i + 2 < count: codes.Add(new(codeOffset, op, Slot32(slots, i + 1))); i += 3; break;
                case Op.SetFp: codes.Add(new(codeOffset, op, frameOffset)); i += 1; break;
                case Op.SetFpLarge when i + 2 < count: codes.Add(new(codeOffset, Op.SetFp, Slot32(slots, i + 1) * 16UL)); i += 3; break;
                case Op.SaveNonVol when i + 1 < count: codes.Add(new(codeOffset, op, info, Slot(slots, i + 1) * 8UL)); i += 2; break;
                case Op.SaveNonVolFar when i + 2 < count: codes.Add(new(codeOffset, Op.SaveNonVol, info, Slot32(slots, i + 1))); i += 3; break;
                case Op.SaveXmm128 when i + 1 < count: i += 2; break; // XMM registers never locate a frame
                case Op.SaveXmm128Far when i + 2 < count: i += 3; break;
                default: return null;
            }
        }
        if (codes.Any(c => c.Op == Op.SetFp) && frameRegister != Rbp) return null;
        return new X64UnwindInfo([.. codes], data[1], frameRegister);
    }

    /// <summary>
    /// The caller's context, from the context of a frame of this function.
    /// </summary>
    /// <param name="offset">The frame's instruction pointer minus the function's start.</param>
    /// <param name="innermost">The frame is where the thread stopped: its instruction pointer may be in the prolog
    /// or an epilog. A caller is always at a call, past its prolog.</param>
    /// <param name="code">For the innermost frame, the code bytes at its instruction pointer (for epilog detection).</param>
    /// <param name="around">How many bytes of the function lie before and after the instruction pointer, to tell a
    /// tail call's jump out of it from a jump inside it.</param>
    public bool TryUnwind(ref UnwindContext context, ulong offset, bool innermost, ReadOnlySpan<byte> code, (ulong Before, ulong After) around,
        IWalkMemory memory)
    {
        if (innermost && offset >= _prologSize && TryUnwindEpilog(ref context, code, around, memory, out var done)) return done;
        var inProlog = innermost && offset < _prologSize;
        var sp = context.Sp;
        var fp = context.Fp;
        foreach (var c in _codes)
        {
            if (inProlog && c.CodeOffset > offset) continue; // not executed yet
            switch (c.Op)
            {
                case Op.PushNonVol:
                    if (!memory.TryReadPointer(sp, out var pushed)) return false;
                    if (c.Value == Rbp) fp = pushed;
                    sp += 8;
                    break;
                case Op.AllocSmall or Op.AllocLarge:
                    sp += c.Value;
                    break;
                case Op.SetFp:
                    sp = fp - c.Value;
                    break;
                case Op.SaveNonVol when c.Value == Rbp:
                    if (!memory.TryReadPointer(sp + c.Offset, out var saved)) return false;
                    fp = saved;
                    break;
            }
        }
        if (!memory.TryReadPointer(sp, out var returnAddress)) return false;
        context = new UnwindContext(returnAddress, sp + 8, fp);
        return true;
    }

    /// <summary>
    /// An epilog is an optional stack adjustment (add rsp or lea rsp from the frame register), pops, then a return or
    /// a jump out of the function (a tail call). At such code the prolog's effects are partly undone already, so the
    /// rest of the epilog is emulated instead.
    /// </summary>
    /// <returns>True when the code is an epilog (then <paramref name="done"/> says whether the emulation read what it needed).</returns>
    static bool TryUnwindEpilog(ref UnwindContext context, ReadOnlySpan<byte> code, (ulong Before, ulong After) around, IWalkMemory memory, out bool done)
    {
        done = false;
        var sp = context.Sp;
        var fp = context.Fp;
        var at = 0;
        var adjusted = false;
        if (Matches(code, at, 0x48, 0x83, 0xC4) && code.Length > at + 3) { sp += code[at + 3]; at += 4; adjusted = true; }
        else if (Matches(code, at, 0x48, 0x81, 0xC4) && code.Length >= at + 7) { sp += BinaryPrimitives.ReadUInt32LittleEndian(code[(at + 3)..]); at += 7; adjusted = true; }
        else if (Matches(code, at, 0x48, 0x8D, 0x65) && code.Length > at + 3) { sp = fp + (ulong)(long)(sbyte)code[at + 3]; at += 4; adjusted = true; }
        else if (Matches(code, at, 0x48, 0x8D, 0xA5) && code.Length >= at + 7) { sp = fp + (ulong)(long)BinaryPrimitives.ReadInt32LittleEndian(code[(at + 3)..]); at += 7; adjusted = true; }
        var pops = new List<(int Register, ulong At)>(); // read only once the code is known to be an epilog
        while (at < code.Length)
        {
            if (code[at] is >= 0x58 and <= 0x5F) { pops.Add((code[at] - 0x58, sp)); sp += 8; at += 1; }
            else if (code[at] == 0x41 && at + 1 < code.Length && code[at + 1] is >= 0x58 and <= 0x5F) { pops.Add((8 + code[at + 1] - 0x58, sp)); sp += 8; at += 2; }
            else break;
        }
        if (at >= code.Length) return false;
        var undone = adjusted || pops.Count > 0;
        var isEpilog = code[at] switch
        {
            0xC3 or 0xC2 => true,
            0xE9 when at + 5 <= code.Length => IsOutside(around, at + 5, BinaryPrimitives.ReadInt32LittleEndian(code[(at + 1)..])),
            0xEB when at + 2 <= code.Length => IsOutside(around, at + 2, (sbyte)code[at + 1]),
            0xFF when at + 1 < code.Length => undone && (code[at + 1] & 0x38) == 0x20, // jmp through a register or memory
            0x48 when at + 2 < code.Length && code[at + 1] == 0xFF => undone && (code[at + 2] & 0x38) == 0x20,
            _ => false,
        };
        if (!isEpilog) return false;
        foreach (var (register, slot) in pops)
            if (register == Rbp && !memory.TryReadPointer(slot, out fp)) return true;
        if (!memory.TryReadPointer(sp, out var returnAddress)) return true;
        context = new UnwindContext(returnAddress, sp + 8, fp);
        done = true;
        return true;

        static bool IsOutside((ulong Before, ulong After) extent, int next, long displacement)
        {
            var target = next + displacement; // relative to the instruction pointer
            return target < -(long)extent.Before || target >= (long)extent.After;
        }
    }

    static ushort Slot(ReadOnlySpan<byte> slots, int i) => BinaryPrimitives.ReadUInt16LittleEndian(slots[(2 * i)..]);

    static uint Slot32(ReadOnlySpan<byte> slots, int i) => Slot(slots, i) | (uint)Slot(slots, i + 1) << 16;

    static bool Matches(ReadOnlySpan<byte> code, int at, byte a, byte b, byte c) =>
        code.Length > at + 2 && code[at] == a && code[at + 1] == b && code[at + 2] == c;
}
