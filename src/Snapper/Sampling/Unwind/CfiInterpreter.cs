namespace Snapper.Sampling.Unwind;

/// <summary>
/// Runs the call frame instructions of a CIE and an FDE (DWARF 5, section 6.4.2) up to a pc and returns that row.
/// Only what x86-64 code needs is understood; an instruction it does not know makes the row unusable (null), so
/// the unwind stops there rather than guess.
/// </summary>
static class CfiInterpreter
{
    const byte DW_CFA_advance_loc = 0x40, DW_CFA_offset = 0x80, DW_CFA_restore = 0xc0;

    sealed class State
    {
        public CfaKind CfaKind;
        public int CfaRegister;
        public long CfaOffset;
        public byte PltMask, PltThreshold, PltShift;
        public RegisterRule[] Rules = new RegisterRule[UnwindRow.Registers];

        public State Copy()
        {
            var copy = (State)MemberwiseClone();
            copy.Rules = (RegisterRule[])Rules.Clone();
            return copy;
        }
    }

    /// <summary>The row for <paramref name="pc"/>, or null when the instructions use something not supported.</summary>
    public static UnwindRow? RowFor(EhFrame frames, Fde fde, ulong pc)
    {
        var cie = fde.Cie;
        if (!cie.Supported || cie.ReturnAddressRegister != UnwindRow.ReturnAddress) return null;
        var state = new State();
        var bytes = frames.Bytes;
        // The CIE's initial instructions make the row every FDE starts from (and DW_CFA_restore returns to).
        if (!Run(bytes[..cie.InstructionsEnd], cie.InstructionsStart, cie, state, null, ulong.MaxValue, fde.PcBegin)) return null;
        var initial = state.Copy();
        if (!Run(bytes[..fde.InstructionsEnd], fde.InstructionsStart, cie, state, initial, pc, fde.PcBegin)) return null;
        return new UnwindRow
        {
            CfaKind = state.CfaKind,
            CfaRegister = state.CfaRegister,
            CfaOffset = state.CfaOffset,
            PltMask = state.PltMask,
            PltThreshold = state.PltThreshold,
            PltShift = state.PltShift,
            Rules = state.Rules,
            IsSignalFrame = cie.IsSignalFrame,
        };
    }

    /// <summary>Executes instructions from <paramref name="start"/> until the location passes <paramref name="pc"/>.</summary>
    static bool Run(ReadOnlySpan<byte> bytes, int start, Cie cie, State state, State? initial, ulong pc, ulong location)
    {
        var c = new ByteCursor(bytes, start);
        var remembered = new Stack<State>();
        while (!c.AtEnd)
        {
            var op = c.U8();
            var low = op & 0x3f;
            switch (op & 0xc0)
            {
                case DW_CFA_advance_loc:
                    if (Advance(ref location, (ulong)low, cie, pc)) return true;
                    continue;
                case DW_CFA_offset:
                    SetRule(state, (ulong)low, new RegisterRule(RuleKind.Offset, (long)c.Uleb128() * cie.DataAlignment));
                    continue;
                case DW_CFA_restore:
                    Restore(state, initial, (ulong)low);
                    continue;
            }
            switch (op)
            {
                case 0x00: // nop
                    break;
                case 0x01: // set_loc
                    if (!PointerEncoding.TryRead(ref c, cie.FdeEncoding, 0, null, out var newLocation)) return false;
                    if (newLocation > pc) return true;
                    location = newLocation;
                    break;
                case 0x02: // advance_loc1
                    if (Advance(ref location, c.U8(), cie, pc)) return true;
                    break;
                case 0x03: // advance_loc2
                    if (Advance(ref location, c.U16(), cie, pc)) return true;
                    break;
                case 0x04: // advance_loc4
                    if (Advance(ref location, c.U32(), cie, pc)) return true;
                    break;
                case 0x05: // offset_extended
                    SetRule(state, c.Uleb128(), new RegisterRule(RuleKind.Offset, (long)c.Uleb128() * cie.DataAlignment));
                    break;
                case 0x06: // restore_extended
                    Restore(state, initial, c.Uleb128());
                    break;
                case 0x07: // undefined
                    SetRule(state, c.Uleb128(), new RegisterRule(RuleKind.Undefined, 0));
                    break;
                case 0x08: // same_value
                    SetRule(state, c.Uleb128(), new RegisterRule(RuleKind.SameValue, 0));
                    break;
                case 0x09: // register
                    {
                        var register = c.Uleb128();
                        SetRule(state, register, new RegisterRule(RuleKind.Register, (long)Math.Min(c.Uleb128(), 1000)));
                        break;
                    }
                case 0x0a: // remember_state
                    if (remembered.Count > 64) return false;
                    remembered.Push(state.Copy());
                    break;
                case 0x0b: // restore_state
                    {
                        if (remembered.Count == 0) return false;
                        var back = remembered.Pop();
                        // The CFA is not part of the remembered register rules in practice, but DWARF says restore all.
                        state.CfaKind = back.CfaKind;
                        state.CfaRegister = back.CfaRegister;
                        state.CfaOffset = back.CfaOffset;
                        state.PltMask = back.PltMask;
                        state.PltThreshold = back.PltThreshold;
                        state.PltShift = back.PltShift;
                        state.Rules = back.Rules;
                        break;
                    }
                case 0x0c: // def_cfa
                    state.CfaKind = CfaKind.RegisterOffset;
                    state.CfaRegister = Register(c.Uleb128());
                    state.CfaOffset = (long)c.Uleb128();
                    break;
                case 0x0d: // def_cfa_register
                    state.CfaKind = CfaKind.RegisterOffset;
                    state.CfaRegister = Register(c.Uleb128());
                    break;
                case 0x0e: // def_cfa_offset
                    state.CfaOffset = (long)c.Uleb128();
                    break;
                case 0x0f: // def_cfa_expression
                    {
                        var length = c.Uleb128();
                        if (length > (ulong)(c.Length - c.Position)) return false;
                        ReadCfaExpression(c.Bytes((int)length), state);
                        break;
                    }
                case 0x10: // expression
                case 0x16: // val_expression
                    {
                        var register = c.Uleb128();
                        var length = c.Uleb128();
                        if (length > (ulong)(c.Length - c.Position)) return false;
                        c.Position += (int)length;
                        SetRule(state, register, new RegisterRule(RuleKind.Unsupported, 0));
                        break;
                    }
                case 0x11: // offset_extended_sf
                    SetRule(state, c.Uleb128(), new RegisterRule(RuleKind.Offset, c.Sleb128() * cie.DataAlignment));
                    break;
                case 0x12: // def_cfa_sf
                    state.CfaKind = CfaKind.RegisterOffset;
                    state.CfaRegister = Register(c.Uleb128());
                    state.CfaOffset = c.Sleb128() * cie.DataAlignment;
                    break;
                case 0x13: // def_cfa_offset_sf
                    state.CfaOffset = c.Sleb128() * cie.DataAlignment;
                    break;
                case 0x14: // val_offset
                    SetRule(state, c.Uleb128(), new RegisterRule(RuleKind.ValOffset, (long)c.Uleb128() * cie.DataAlignment));
                    break;
                case 0x15: // val_offset_sf
                    SetRule(state, c.Uleb128(), new RegisterRule(RuleKind.ValOffset, c.Sleb128() * cie.DataAlignment));
                    break;
                case 0x2e: // GNU_args_size: only matters for exception handling
                    c.Uleb128();
                    break;
                case 0x2f: // GNU_negative_offset_extended
                    SetRule(state, c.Uleb128(), new RegisterRule(RuleKind.Offset, -(long)c.Uleb128() * cie.DataAlignment));
                    break;
                default:
                    return false;
            }
        }
        return true;
    }

    /// <summary>Moves the location on; true when it has passed <paramref name="pc"/> (the row in force is the current one).</summary>
    static bool Advance(ref ulong location, ulong delta, Cie cie, ulong pc)
    {
        location += delta * cie.CodeAlignment;
        return location > pc;
    }

    /// <summary>A CFA register beyond the general-purpose ones (an SSE register, say) cannot be a CFA base: -1 makes the row unusable.</summary>
    static int Register(ulong number) => number < UnwindRow.Registers ? (int)number : -1;

    static void SetRule(State state, ulong register, RegisterRule rule)
    {
        // Rules for vector and other registers are read (to stay in step) and dropped: the unwinder never needs them.
        if (register < UnwindRow.Registers) state.Rules[register] = rule;
    }

    static void Restore(State state, State? initial, ulong register)
    {
        if (register < UnwindRow.Registers) state.Rules[register] = initial?.Rules[register] ?? default;
    }

    /// <summary>
    /// Recognises the one CFA expression x86-64 toolchains emit for PLT stubs: DW_OP_breg7 (rsp) N; DW_OP_breg16
    /// (rip) 0; DW_OP_lit&lt;mask&gt;; DW_OP_and; DW_OP_lit&lt;threshold&gt;; DW_OP_ge; DW_OP_lit&lt;shift&gt;; DW_OP_shl;
    /// DW_OP_plus. Any other expression marks the CFA unsupported.
    /// </summary>
    static void ReadCfaExpression(ReadOnlySpan<byte> expression, State state)
    {
        state.CfaKind = CfaKind.Unsupported;
        const byte breg7 = 0x77, breg16 = 0x80, lit0 = 0x30, lit31 = 0x4f, and = 0x1a, ge = 0x2a, shl = 0x24, plus = 0x22;
        var c = new ByteCursor(expression);
        if (c.U8() != breg7) return;
        var offset = c.Sleb128();
        if (c.AtEnd || c.U8() != breg16 || c.AtEnd || c.Sleb128() != 0 || c.AtEnd) return;
        var mask = c.U8();
        if (mask is < lit0 or > lit31 || c.AtEnd || c.U8() != and || c.AtEnd) return;
        var threshold = c.U8();
        if (threshold is < lit0 or > lit31 || c.AtEnd || c.U8() != ge || c.AtEnd) return;
        var shift = c.U8();
        if (shift is < lit0 or > lit31 || c.AtEnd || c.U8() != shl || c.AtEnd || c.U8() != plus || !c.AtEnd) return;
        state.CfaKind = CfaKind.Plt;
        state.CfaRegister = UnwindRow.Rsp;
        state.CfaOffset = offset;
        state.PltMask = (byte)(mask - lit0);
        state.PltThreshold = (byte)(threshold - lit0);
        state.PltShift = (byte)(shift - lit0);
    }
}
