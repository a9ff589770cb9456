using System.Reflection.Emit;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Lists the method tokens a method body calls. Used to find which P/Invoke a frame stands for when the runtime
/// inlined the P/Invoke into its caller and ClrMD can name only the caller. Operand sizes come from the runtime's
/// own opcode table rather than a hand-written copy of ECMA-335.
/// </summary>
static class ILCalls
{
    static readonly Dictionary<short, OperandType> Operands = typeof(OpCodes)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(op => op.Value, op => op.OperandType);

    /// <summary>Tokens of call, callvirt and newobj targets, in IL order. Stops quietly at malformed IL.</summary>
    public static List<int> CalledTokens(ReadOnlySpan<byte> il)
    {
        var tokens = new List<int>();
        var i = 0;
        while (i < il.Length)
        {
            short value = il[i++];
            if (value == 0xFE)
            {
                if (i >= il.Length) break;
                value = unchecked((short)(0xFE00 | il[i++]));
            }
            if (!Operands.TryGetValue(value, out var operand)) break;
            var size = OperandSize(operand, il, i);
            if (size < 0 || i + size > il.Length) break;
            if (operand == OperandType.InlineMethod && value != OpCodes.Ldftn.Value && value != OpCodes.Ldvirtftn.Value)
                tokens.Add(BitConverter.ToInt32(il.Slice(i, 4)));
            i += size;
        }
        return tokens;
    }

    static int OperandSize(OperandType operand, ReadOnlySpan<byte> il, int at) => operand switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => at + 4 <= il.Length ? 4 + 4 * BitConverter.ToInt32(il.Slice(at, 4)) : -1,
        _ => 4,
    };
}
