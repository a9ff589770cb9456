namespace Snapper.Sampling.Linux;

/// <summary>
/// Writes eBPF instructions (Documentation/bpf/standardization/instruction-set.rst), 8 bytes each, for the few
/// programs Snapper hand-assembles: no compiler is needed on the machines it runs on. Jumps are placed first and
/// pointed at their target once it is known (<see cref="JumpHere"/>).
/// </summary>
sealed class BpfAssembler
{
    public const int R0 = 0, R1 = 1, R2 = 2, R3 = 3, R6 = 6, R7 = 7, R8 = 8, R9 = 9, FramePointer = 10;

    const byte LoadImm64 = 0x18, Mov64Imm = 0xb7, Mov64Reg = 0xbf, Add64Imm = 0x07, Add64Reg = 0x0f, Mul64Imm = 0x27,
        JumpAlways = 0x05, JumpIfEqualImm = 0x15, JumpIfAtLeastImm = 0x35, CallOp = 0x85, ExitOp = 0x95;
    const int PseudoMapValue = 2, PseudoKernelFunction = 2;

    readonly List<ulong> _code = new(64);

    /// <summary>The index of the next instruction: a jump target.</summary>
    public int Here => _code.Count;

    public ulong[] ToArray() => _code.ToArray();

    /// <summary>dst = *(size *)(src + offset), zero-extended.</summary>
    public void Load(int size, int dst, int src, int offset) => Add(MemoryOp(0x61, size), dst, src, offset, 0);

    /// <summary>*(size *)(dst + offset) = src.</summary>
    public void Store(int size, int dst, int offset, int src) => Add(MemoryOp(0x63, size), dst, src, offset, 0);

    /// <summary>*(size *)(dst + offset) = value.</summary>
    public void StoreImmediate(int size, int dst, int offset, int value) => Add(MemoryOp(0x62, size), dst, 0, offset, value);

    /// <summary>Copies a member (of its own size) of the struct <paramref name="from"/> points to, into <paramref name="to"/> + offset, through R2.</summary>
    public void CopyMember(int from, (int Offset, int Size) member, int to, int offset, int size)
    {
        Load(member.Size, R2, from, member.Offset);
        Store(Math.Min(member.Size, size), to, offset, R2);
    }

    public void Move(int dst, int src) => Add(Mov64Reg, dst, src, 0, 0);
    public void MoveImmediate(int dst, int value) => Add(Mov64Imm, dst, 0, 0, value);
    public void AddImmediate(int dst, int value) => Add(Add64Imm, dst, 0, 0, value);
    public void AddRegister(int dst, int src) => Add(Add64Reg, dst, src, 0, 0);
    public void MultiplyImmediate(int dst, int value) => Add(Mul64Imm, dst, 0, 0, value);

    /// <summary>dst = the address of a map's value at <paramref name="offset"/> (an array map's first element), resolved at load.</summary>
    public void LoadMapValueAddress(int dst, int mapFd, int offset)
    {
        Add(LoadImm64, dst, PseudoMapValue, 0, mapFd);
        Add(0, 0, 0, 0, offset);
    }

    /// <summary>A helper function by its number (include/uapi/linux/bpf.h); the result is in R0, R1-R5 are clobbered.</summary>
    public void Call(int helper) => Add(CallOp, 0, 0, 0, helper);

    /// <summary>A kernel function (kfunc) by its BTF id in the kernel's own BTF.</summary>
    public void CallKernelFunction(int btfId) => Add(CallOp, 0, PseudoKernelFunction, 0, btfId);

    public void Exit() => Add(ExitOp, 0, 0, 0, 0);

    /// <summary>A jump back to an instruction already written.</summary>
    public void JumpTo(int target) => Add(JumpAlways, 0, 0, target - Here - 1, 0);

    /// <summary>if (dst == value) jump; returns the jump, to be pointed with <see cref="JumpHere"/>.</summary>
    public int JumpIfEqual(int dst, int value) => Placeholder(JumpIfEqualImm, dst, value);

    /// <summary>if (dst >= value, unsigned) jump; returns the jump, to be pointed with <see cref="JumpHere"/>.</summary>
    public int JumpIfAtLeast(int dst, int value) => Placeholder(JumpIfAtLeastImm, dst, value);

    /// <summary>Points a jump written earlier at the next instruction.</summary>
    public void JumpHere(int jump)
    {
        var instruction = _code[jump];
        _code[jump] = instruction & ~(0xffffUL << 16) | (ulong)(ushort)(short)(Here - jump - 1) << 16;
    }

    int Placeholder(byte code, int dst, int value)
    {
        Add(code, dst, 0, 0, value);
        return Here - 1;
    }

    void Add(byte code, int dst, int src, int offset, int imm) =>
        _code.Add(code | (ulong)((src << 4 | dst) & 0xff) << 8 | (ulong)(ushort)checked((short)offset) << 16 | (ulong)(uint)imm << 32);

    /// <summary>A load (0x61), store (0x63) or store-immediate (0x62) opcode for a 1, 2, 4 or 8 byte access: the size sits in bits 3-4.</summary>
    static byte MemoryOp(byte wordOp, int size) => (byte)((wordOp & ~0x18) | size switch
    {
        1 => 0x10,
        2 => 0x08,
        4 => 0x00,
        8 => 0x18,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "no BPF access of that size"),
    });
}
