using System.Buffers.Binary;
using System.Text;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Just enough of the kernel's BPF Type Format (/sys/kernel/btf/vmlinux) to build a BPF program for the running
/// kernel: the id of a type by kind and name, and the byte offset and size of a struct member. Offsets differ
/// between kernel builds (and are shuffled by structure randomisation), so they are never hard-coded.
/// Format: Documentation/bpf/btf.rst. Any record of a kind it does not know makes the whole file unusable, since
/// the ids of the types after it could no longer be counted.
/// </summary>
sealed class Btf
{
    public const string VmlinuxPath = "/sys/kernel/btf/vmlinux";

    public const int KindInt = 1, KindPtr = 2, KindStruct = 4, KindUnion = 5, KindEnum = 6, KindTypedef = 8,
        KindVolatile = 9, KindConst = 10, KindRestrict = 11, KindFunc = 12, KindTypeTag = 18, KindEnum64 = 19;

    readonly byte[] _data;
    readonly int _strings;
    readonly int[] _typeOffsets; // by type id; id 0 is "void"

    Btf(byte[] data, int strings, int[] typeOffsets)
    {
        _data = data;
        _strings = strings;
        _typeOffsets = typeOffsets;
    }

    /// <summary>The kernel's own types, or null when the kernel has none (built without BTF) or they cannot be read.</summary>
    public static Btf? LoadKernel()
    {
        try
        {
            return Parse(File.ReadAllBytes(VmlinuxPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static Btf? Parse(byte[] data)
    {
        var span = data.AsSpan();
        if (span.Length < 24 || BinaryPrimitives.ReadUInt16LittleEndian(span) != 0xEB9F) return null; // little-endian only
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(span[4..]);
        var typeStart = headerLength + BinaryPrimitives.ReadInt32LittleEndian(span[8..]);
        var typeEnd = typeStart + BinaryPrimitives.ReadInt32LittleEndian(span[12..]);
        var strings = headerLength + BinaryPrimitives.ReadInt32LittleEndian(span[16..]);
        if (typeStart < 0 || typeEnd > span.Length || strings < 0 || strings > span.Length) return null;
        var offsets = new List<int>(1 << 17) { 0 };
        for (var at = typeStart; at < typeEnd;)
        {
            if (at + 12 > typeEnd) return null;
            offsets.Add(at);
            var info = BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 4)..]);
            var kind = (int)(info >> 24) & 0x1f;
            var count = (int)(info & 0xffff);
            int? extra = kind switch
            {
                KindInt => 4,
                3 => 12, // array
                KindStruct or KindUnion => 12 * count,
                KindEnum => 8 * count,
                13 => 8 * count, // function prototype
                14 => 4, // variable
                15 => 12 * count, // data section
                17 => 4, // declaration tag
                KindEnum64 => 12 * count,
                KindPtr or 7 or KindTypedef or KindVolatile or KindConst or KindRestrict or KindFunc or 16 or KindTypeTag => 0,
                _ => null,
            };
            if (extra is null) return null;
            at += 12 + extra.Value;
        }
        return new Btf(data, strings, offsets.ToArray());
    }

    /// <summary>The id of the first type of <paramref name="kind"/> named <paramref name="name"/>, or null.</summary>
    public int? FindId(int kind, string name)
    {
        var wanted = Encoding.ASCII.GetBytes(name);
        for (var id = 1; id < _typeOffsets.Length; id++)
            if (KindOf(id) == kind && NameAt(U32(_typeOffsets[id])).SequenceEqual(wanted)) return id;
        return null;
    }

    /// <summary>
    /// The byte offset and size of a member of a struct, following <paramref name="path"/> through nested structs
    /// (and through anonymous structs and unions on the way, as C does). Null when any step is missing or a bit field.
    /// </summary>
    public (int Offset, int Size)? Member(int structId, params string[] path)
    {
        var offset = 0;
        var typeId = structId;
        foreach (var name in path)
        {
            if (FindMember(Resolve(typeId), Encoding.ASCII.GetBytes(name)) is not { } found) return null;
            offset += found.Offset;
            typeId = found.TypeId;
        }
        return SizeOf(typeId) is { } size ? (offset, size) : null;
    }

    (int Offset, int TypeId)? FindMember(int structId, byte[] name)
    {
        var kind = KindOf(structId);
        if (kind is not (KindStruct or KindUnion)) return null;
        var at = _typeOffsets[structId];
        var info = U32(at + 4);
        var bitFieldsEncoded = info >> 31 == 1;
        var count = (int)(info & 0xffff);
        for (var i = 0; i < count; i++)
        {
            var member = at + 12 + 12 * i;
            var memberName = NameAt(U32(member));
            var type = (int)U32(member + 4);
            var bits = U32(member + 8);
            if (bitFieldsEncoded)
            {
                if (bits >> 24 != 0) continue; // a bit field: not loadable on its own
                bits &= 0xffffff;
            }
            if (bits % 8 != 0) continue;
            if (memberName.SequenceEqual(name)) return ((int)bits / 8, type);
            if (memberName.IsEmpty && FindMember(Resolve(type), name) is { } nested) return ((int)bits / 8 + nested.Offset, nested.TypeId);
        }
        return null;
    }

    /// <summary>The size in bytes of a type, through typedefs and qualifiers; null for what has none (functions, void).</summary>
    public int? SizeOf(int typeId)
    {
        var id = Resolve(typeId);
        if (id <= 0 || id >= _typeOffsets.Length) return null;
        return KindOf(id) switch
        {
            KindPtr => 8,
            KindInt or KindStruct or KindUnion or KindEnum or KindEnum64 => (int)U32(_typeOffsets[id] + 8),
            _ => null,
        };
    }

    /// <summary>Follows typedefs and qualifiers (const, volatile, restrict, type tags) to the type they name.</summary>
    int Resolve(int typeId)
    {
        for (var hops = 0; hops < 32 && typeId > 0 && typeId < _typeOffsets.Length; hops++)
        {
            if (KindOf(typeId) is not (KindTypedef or KindVolatile or KindConst or KindRestrict or KindTypeTag)) return typeId;
            typeId = (int)U32(_typeOffsets[typeId] + 8);
        }
        return typeId;
    }

    int KindOf(int id) => (int)(U32(_typeOffsets[id] + 4) >> 24) & 0x1f;

    uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(at));

    ReadOnlySpan<byte> NameAt(uint offset)
    {
        var start = _strings + (int)offset;
        if (start >= _data.Length) return default;
        var text = _data.AsSpan(start);
        var end = text.IndexOf((byte)0);
        return end < 0 ? text : text[..end];
    }
}
