namespace Snapper.Sampling.Unwind;

/// <summary>
/// Tells which runtime stub a thread is in from the stub's x64 code bytes, for the stubs no heap kind names: the runtime
/// writes each kind from one template, so a few fixed instructions around the instruction pointer say which it is.
/// Checked on .NET 10.0.12 (docs/runtime-assumptions.md); a runtime that writes them differently is matched by none, and
/// its stubs keep the generic name. A wrong match would only mislabel a leaf, never move a frame.
/// </summary>
static class StubCode
{
    /// <summary>How many bytes before and after the instruction pointer <see cref="KindAt"/> wants to see.</summary>
    public const int Before = 128, After = 64;

    const short Any = -1;

    /// <param name="Pattern">The template's bytes; <see cref="Any"/> where the runtime writes an address or offset.</param>
    /// <param name="InstructionStarts">Where in the template an instruction starts: a thread is stopped only at one.</param>
    sealed record Template(string Name, short[] Pattern, int[] InstructionStarts);

    /// <param name="Signature">Bytes found in every stub of the kind.</param>
    /// <param name="From">How far before the signature's first byte the stub's instructions begin.</param>
    /// <param name="To">How far after the signature's first byte they end.</param>
    sealed record Signature(string Name, short[] Bytes, int From, int To);

    static short[] Bytes(params int[] bytes) => [.. bytes.Select(b => (short)b)];

    static readonly int[] Imm32 = [Any, Any, Any, Any];
    static readonly int[] Imm64 = [Any, Any, Any, Any, Any, Any, Any, Any];

    public const string CallCounting = "[runtime stub: counting a method's calls before tier-1 compilation (call counting stub)]";
    public const string FixupPrecode = "[runtime stub: a method's entry point (fixup precode)]";
    public const string StubPrecode = "[runtime stub: a method's entry point (stub precode)]";
    public const string InterfaceDispatch = "[runtime stub: interface call, checking the expected type (VSD dispatch stub)]";
    public const string InterfaceResolve = "[runtime stub: interface call, looked up in the dispatch cache (VSD resolve stub)]";
    public const string VtableCall = "[runtime stub: virtual call through the vtable (VSD vtable stub)]";
    public const string DictionaryLookup = "[runtime stub: generic dictionary lookup (dynamic helper)]";
    public const string ArgumentHelper = "[runtime stub: a call with a runtime-supplied argument (dynamic helper)]";

    // Interleaved stubs (.NET 7+): the code page is the template repeated, each stub reading its data from the page after.
    static readonly Template[] Templates =
    [
        // mov rax,[rip+cell]; dec word [rax]; je +6; jmp [rip+target]; jmp [rip+threshold reached]
        new(CallCounting, Bytes([0x48, 0x8B, 0x05, .. Imm32, 0x66, 0xFF, 0x08, 0x74, 0x06, 0xFF, 0x25, .. Imm32, 0xFF, 0x25, .. Imm32]), [0, 7, 10, 12, 18]),
        // jmp [rip+target]; mov r10,[rip+method]; jmp [rip+fixup]
        new(FixupPrecode, Bytes([0xFF, 0x25, .. Imm32, 0x4C, 0x8B, 0x15, .. Imm32, 0xFF, 0x25, .. Imm32]), [0, 6, 13]),
        // mov r10,[rip+secret]; jmp [rip+target]
        new(StubPrecode, Bytes([0x4C, 0x8B, 0x15, .. Imm32, 0xFF, 0x25, .. Imm32]), [0, 7]),
        // mov rax,expected type; cmp [rdi],rax; nop; mov rax,target; jne fail; jmp rax
        new(InterfaceDispatch, Bytes([0x48, 0xB8, .. Imm64, 0x48, 0x39, 0x07, 0x90, 0x48, 0xB8, .. Imm64, 0x0F, 0x85, .. Imm32, 0xFF, 0xE0]), [0, 10, 13, 14, 24, 30]),
        // mov rax,[rdi]; mov rax,[rax+disp8]; jmp [rax+disp8]
        new(VtableCall, Bytes(0x48, 0x8B, 0x07, 0x48, 0x8B, 0x40, Any, 0xFF, 0x60, Any), [0, 3, 7]),
        // mov rax,[rdi]; mov rax,[rax+disp32]; jmp [rax+disp8]
        new(VtableCall, Bytes([0x48, 0x8B, 0x07, 0x48, 0x8B, 0x80, .. Imm32, 0xFF, 0x60, Any]), [0, 3, 10]),
        // mov rax,[rdi]; mov rax,[rax+disp8]; jmp [rax+disp32]
        new(VtableCall, Bytes([0x48, 0x8B, 0x07, 0x48, 0x8B, 0x40, Any, 0xFF, 0xA0, .. Imm32]), [0, 3, 7]),
        // mov rax,[rdi]; mov rax,[rax+disp32]; jmp [rax+disp32]
        new(VtableCall, Bytes([0x48, 0x8B, 0x07, 0x48, 0x8B, 0x80, .. Imm32, 0xFF, 0xA0, .. Imm32]), [0, 3, 10]),
        // mov rdi,argument; jmp target
        new(ArgumentHelper, Bytes([0x48, 0xBF, .. Imm64, 0xE9, .. Imm32]), [0, 10]),
        // mov rsi,rdi; mov rdi,argument; jmp target
        new(ArgumentHelper, Bytes([0x48, 0x8B, 0xF7, 0x48, 0xBF, .. Imm64, 0xE9, .. Imm32]), [0, 3, 13]),
        // mov rax,constant; ret
        new(ArgumentHelper, Bytes([0x48, 0xB8, .. Imm64, 0xC3]), [0, 10]),
    ];

    // Stubs whose length varies (a chain of loads, a cache probe): one run of bytes in the middle names them.
    static readonly Signature[] Signatures =
    [
        // mov rdx,rax; shr rax,12; add rax,rdx; xor rax,hash: the dispatch cache's hash, in every resolve stub
        new(InterfaceResolve, Bytes(0x48, 0x8B, 0xD0, 0x48, 0xC1, 0xE8, 0x0C, 0x48, 0x03, 0xC2, 0x48, 0x35), From: 40, To: 96),
        // test rax,rax; je +1; ret; mov rsi,signature: after the dictionary loads, before the jump to the slow lookup
        new(DictionaryLookup, Bytes(0x48, 0x85, 0xC0, 0x74, 0x01, 0xC3, 0x48, 0xBE), From: 32, To: 21),
    ];

    /// <summary>The stub <paramref name="code"/>[<paramref name="pc"/>] is in, or null when it matches no known kind.</summary>
    /// <param name="code">The target's code around the instruction pointer (fewer bytes where memory ends).</param>
    /// <param name="pc">Where in <paramref name="code"/> the instruction pointer is.</param>
    public static string? KindAt(ReadOnlySpan<byte> code, int pc)
    {
        foreach (var template in Templates)
            foreach (var start in template.InstructionStarts)
                if (Matches(code, pc - start, template.Pattern)) return template.Name;
        foreach (var signature in Signatures)
            for (var at = Math.Max(0, pc - signature.To + 1); at <= pc + signature.From && at + signature.Bytes.Length <= code.Length; at++)
                if (Matches(code, at, signature.Bytes)) return signature.Name;
        return null;
    }

    static bool Matches(ReadOnlySpan<byte> code, int at, short[] pattern)
    {
        if (at < 0 || at + pattern.Length > code.Length) return false;
        for (var i = 0; i < pattern.Length; i++)
            if (pattern[i] != Any && code[at + i] != pattern[i]) return false;
        return true;
    }
}
