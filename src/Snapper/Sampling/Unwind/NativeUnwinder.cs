using Snapper.Sampling.Linux;

namespace Snapper.Sampling.Unwind;

/// <summary>
/// Unwinds a stopped thread through native code with the libraries' .eh_frame, in managed code (a mistake here
/// costs a frame, never the sampler: the runtime's own out-of-process unwinder is a native export whose
/// signature changes between versions, and a wrong call takes the process down). Starts from the registers read
/// at the stop, reads the stack through the snapshot's page cache, and steps while the pc is in a library:
/// it ends at the first pc in managed code (JIT'd or ReadyToRun), at the thread's first frame, at the depth cap,
/// or at the first thing that does not add up (every step must move the CFA up the stack, so it cannot loop).
/// Does no string work: frames are named after the resume (<see cref="NativeFrameNames"/>).
/// </summary>
/// <param name="maxFrames">The deepest native stack to unwind (--max-frames; at most 128).</param>
sealed class NativeUnwinder(ExecutableRegions regions, ProcessMemory memory, NativeModules modules, int maxFrames)
{
    /// <summary>
    /// Set to "off" only by the test that forces the fallback: every library then reads as having no unwind
    /// tables, as on a runtime or architecture the unwinder does not support.
    /// </summary>
    public const string SwitchVariable = "SNAPPER_NATIVE_UNWIND";

    const int MaxDepth = 128;
    readonly int _maxDepth = Math.Clamp(maxFrames, 1, MaxDepth);
    internal static readonly bool Disabled = Environment.GetEnvironmentVariable(SwitchVariable) == "off";
    // DWARF numbers of the registers a callee must preserve (SysV x86-64): rbx, rbp, r12-r15.
    const uint CalleeSaved = 1u << 3 | 1u << 6 | 1u << 12 | 1u << 13 | 1u << 14 | 1u << 15;

    readonly List<NativeFrame> _frames = new();
    readonly ulong[] _registers = new ulong[UnwindRow.Registers];
    readonly ulong[] _caller = new ulong[UnwindRow.Registers];

    /// <summary>
    /// The native frames above the managed ones of a thread stopped with <paramref name="regs"/>; null when the
    /// thread is not in native code, or the library it is in cannot be unwound (then it keeps the frames it
    /// would have without native unwinding).
    /// </summary>
    public NativeStack? Unwind(in Native.UserRegs regs)
    {
        if (regions.MayBeManagedCode(regs.Rip)) return null;
        _frames.Clear();
        var known = LoadRegisters(regs);
        var pc = regs.Rip;
        var exactPc = true; // the innermost pc is the instruction itself; callers' are return addresses
        var complete = false;
        for (var depth = 0; depth < _maxDepth; depth++)
        {
            if (pc == 0) { complete = true; break; }
            if (regions.MayBeManagedCode(pc)) { complete = true; break; }
            if (modules.ModuleAt(pc) is not { } mapped) break;
            var address = pc - mapped.Bias - (exactPc ? 0UL : 1UL);
            var status = mapped.Module.TryGetRow(address, out var row);
            if (depth == 0 && status == ElfModule.RowStatus.Unsupported) return null;
            var sp = _registers[UnwindRow.Rsp];
            ulong returnAddress = 0, cfa = 0;
            var endOfStack = false;
            var stepped = status == ElfModule.RowStatus.Found && Step(row!, ref known, pc, out returnAddress, out endOfStack, out cfa);
            // Where the frame ends on the stack places it among the runtime's frames; unknown, its lowest address will do.
            _frames.Add(new NativeFrame(mapped.Module, address, stepped ? cfa : sp));
            if (!stepped) break;
            if (endOfStack) { complete = true; break; }
            pc = returnAddress;
            exactPc = row!.IsSignalFrame;
        }
        return _frames.Count == 0 ? null : new NativeStack(_frames.ToArray(), complete);
    }

    uint LoadRegisters(in Native.UserRegs r)
    {
        _registers[0] = r.Rax; _registers[1] = r.Rdx; _registers[2] = r.Rcx; _registers[3] = r.Rbx;
        _registers[4] = r.Rsi; _registers[5] = r.Rdi; _registers[6] = r.Rbp; _registers[7] = r.Rsp;
        _registers[8] = r.R8; _registers[9] = r.R9; _registers[10] = r.R10; _registers[11] = r.R11;
        _registers[12] = r.R12; _registers[13] = r.R13; _registers[14] = r.R14; _registers[15] = r.R15;
        _registers[16] = r.Rip;
        return (1u << UnwindRow.Registers) - 1;
    }

    /// <summary>
    /// Moves <see cref="_registers"/> to the caller's frame. False when the frame cannot be unwound; true with
    /// <paramref name="endOfStack"/> when the return address is undefined (the thread's first frame).
    /// <paramref name="cfa"/> is the frame's canonical frame address: the stack pointer just before its call.
    /// </summary>
    bool Step(UnwindRow row, ref uint known, ulong pc, out ulong returnAddress, out bool endOfStack, out ulong cfa)
    {
        returnAddress = 0;
        endOfStack = false;
        if (!TryCfa(row, known, pc, out cfa) || cfa <= _registers[UnwindRow.Rsp]) return false;
        var raRule = row.Rules[UnwindRow.ReturnAddress];
        if (raRule.Kind == RuleKind.Undefined)
        {
            endOfStack = true;
            return true;
        }
        uint callerKnown = 0;
        for (var r = 0; r < UnwindRow.Registers; r++)
        {
            if (r == UnwindRow.Rsp) continue;
            var rule = row.Rules[r];
            var bit = 1u << r;
            switch (rule.Kind)
            {
                case RuleKind.Default when (CalleeSaved & bit) != 0:
                case RuleKind.SameValue:
                    _caller[r] = _registers[r];
                    callerKnown |= known & bit;
                    break;
                case RuleKind.Offset:
                    if (ReadWord(cfa + (ulong)rule.Value, out _caller[r])) callerKnown |= bit;
                    break;
                case RuleKind.ValOffset:
                    _caller[r] = cfa + (ulong)rule.Value;
                    callerKnown |= bit;
                    break;
                case RuleKind.Register when rule.Value < UnwindRow.Registers:
                    _caller[r] = _registers[rule.Value];
                    callerKnown |= known & (1u << (int)rule.Value);
                    break;
            }
        }
        if ((callerKnown & (1u << UnwindRow.ReturnAddress)) == 0) return false;
        Array.Copy(_caller, _registers, UnwindRow.Registers);
        _registers[UnwindRow.Rsp] = cfa;
        known = callerKnown | 1u << UnwindRow.Rsp;
        returnAddress = _registers[UnwindRow.ReturnAddress];
        return true;
    }

    bool TryCfa(UnwindRow row, uint known, ulong pc, out ulong cfa)
    {
        cfa = 0;
        switch (row.CfaKind)
        {
            case CfaKind.RegisterOffset when row.CfaRegister >= 0 && (known & (1u << row.CfaRegister)) != 0:
                cfa = _registers[row.CfaRegister] + (ulong)row.CfaOffset;
                return true;
            case CfaKind.Plt when (known & (1u << UnwindRow.Rsp)) != 0:
                var past = (pc & row.PltMask) >= row.PltThreshold ? 1UL : 0UL;
                cfa = _registers[UnwindRow.Rsp] + (ulong)row.CfaOffset + (past << row.PltShift);
                return true;
            default:
                return false;
        }
    }

    bool ReadWord(ulong address, out ulong value)
    {
        Span<byte> word = stackalloc byte[8];
        if (memory.Read(address, word) != 8)
        {
            value = 0;
            return false;
        }
        value = BitConverter.ToUInt64(word);
        return true;
    }
}
