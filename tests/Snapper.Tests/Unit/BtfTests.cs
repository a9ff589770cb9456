using System.Buffers.Binary;
using System.Text;
using Snapper.Sampling.Linux;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.Unit;

public sealed class BtfTests
{
    [Fact]
    public void Members_are_found_through_typedefs_anonymous_unions_and_nested_structs_and_bit_fields_are_refused()
    {
        var blob = new BtfBlob();
        var intType = blob.Add("int", Btf.KindInt, 0, 4, extra: [32]); // 1
        var u32 = blob.Add("u32", Btf.KindTypedef, 0, (uint)intType); // 2
        var inner = blob.Add("inner", Btf.KindStruct, 2, 16, members: [("a", intType, 0), ("b", u32, 64)]); // 3
        var anonymous = blob.Add("", Btf.KindUnion, 2, 16, members: [("c", intType, 0), ("d", inner, 0)]); // 4
        var outer = blob.Add("outer", Btf.KindStruct, 4, 48, bitFields: true,
            members: [("flags", intType, 3u << 24), ("x", intType, 32), ("", anonymous, 64), ("in", inner, 192)]); // 5
        blob.Add("bpf_iter_task", Btf.KindFunc, 0, 0); // 6
        var btf = Btf.Parse(blob.Build())!;

        Assert.Equal(outer, btf.FindId(Btf.KindStruct, "outer"));
        Assert.Equal(6, btf.FindId(Btf.KindFunc, "bpf_iter_task"));
        Assert.Null(btf.FindId(Btf.KindStruct, "bpf_iter_task"));
        Assert.Equal<(int, int)?>((4, 4), btf.Member(outer, "x"));
        Assert.Equal<(int, int)?>((8, 4), btf.Member(outer, "c")); // inside the anonymous union at byte 8
        Assert.Null(btf.Member(outer, "b")); // "d" has a name: its members are reached through it only
        Assert.Equal<(int, int)?>((24 + 8, 4), btf.Member(outer, "in", "b")); // u32 resolves to int's size
        Assert.Equal<(int, int)?>((24, 16), btf.Member(outer, "in"));
        Assert.Null(btf.Member(outer, "flags")); // a bit field cannot be loaded on its own
        Assert.Null(btf.Member(outer, "missing"));
    }

    [Fact]
    public void A_record_of_an_unknown_kind_makes_the_file_unusable()
    {
        var blob = new BtfBlob();
        blob.Add("int", Btf.KindInt, 0, 4, extra: [32]);
        blob.Add("future", 31, 0, 0);
        Assert.Null(Btf.Parse(blob.Build()));
        Assert.Null(Btf.Parse([1, 2, 3]));
    }

    [SkippableFact]
    public void The_running_kernel_has_what_the_bpf_programs_read()
    {
        var btf = Btf.LoadKernel();
        Prerequisite.Require(btf is not null, $"this kernel has no BTF ({Btf.VmlinuxPath})");
        var writer = TaskRecordWriter.Of(btf);
        Assert.NotNull(writer);
        var task = btf.FindId(Btf.KindStruct, "task_struct")!.Value;
        Assert.True(btf.Member(task, "se")!.Value.Offset < writer.RunTime.Offset);
        Assert.Equal(8, writer.RunTime.Size);
        Assert.Equal(4, writer.Pid.Size);
        Assert.Equal(0x95ul, TaskIteratorProgram.Build(writer)[^1] & 0xff); // ends with exit
        Prerequisite.Require(Environment.OSVersion.Version >= new Version(6, 7),
            $"Linux {Environment.OSVersion.Version} is older than 6.7: no open-coded task iterator for the syscall program");
        var kernel = TaskSnapshotProgram.KernelFunctions.Of(btf);
        Assert.NotNull(kernel);
        Assert.Equal(24, kernel.IteratorSize); // struct bpf_iter_task { __u64 __opaque[3]; }
        Assert.Equal(0x95ul, TaskSnapshotProgram.Build(writer, kernel, pid: 1, mapFd: 3, capacity: 16)[^1] & 0xff);
    }

    /// <summary>Writes a BTF file: header, type records, string section.</summary>
    sealed class BtfBlob
    {
        readonly MemoryStream _types = new();
        readonly MemoryStream _strings = new();
        int _count;

        public BtfBlob() => _strings.WriteByte(0); // offset 0 is the empty name

        public int Add(string name, int kind, int vlen, uint sizeOrType, uint[]? extra = null,
            (string Name, int Type, uint Offset)[]? members = null, bool bitFields = false)
        {
            U32(_types, Name(name));
            U32(_types, (uint)kind << 24 | (uint)(members?.Length ?? vlen) | (bitFields ? 1u << 31 : 0));
            U32(_types, sizeOrType);
            foreach (var value in extra ?? []) U32(_types, value);
            foreach (var (member, type, offset) in members ?? [])
            {
                U32(_types, Name(member));
                U32(_types, (uint)type);
                U32(_types, offset);
            }
            return ++_count;
        }

        uint Name(string name)
        {
            if (name.Length == 0) return 0;
            var at = (uint)_strings.Position;
            _strings.Write(Encoding.ASCII.GetBytes(name + "\0"));
            return at;
        }

        public byte[] Build()
        {
            var header = new byte[24];
            BinaryPrimitives.WriteUInt16LittleEndian(header, 0xEB9F);
            header[2] = 1;
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), 24);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), 0);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), (int)_types.Length);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(16), (int)_types.Length);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(20), (int)_strings.Length);
            return [.. header, .. _types.ToArray(), .. _strings.ToArray()];
        }

        static void U32(Stream stream, uint value)
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
            stream.Write(bytes);
        }
    }
}
