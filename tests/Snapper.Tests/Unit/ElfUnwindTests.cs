using System.Globalization;
using System.Runtime.InteropServices;
using Snapper.Sampling.Unwind;

namespace Snapper.Tests.Unit;

/// <summary>
/// The ELF and CFI readers against the real libraries this test process has loaded (libc, the runtime's
/// libSystem.Native): symbols, load bias, FDE lookup and the rows the call frame instructions give.
/// </summary>
public sealed class ElfUnwindTests
{
    /// <summary>The path, start and file offset of the executable mapping of a library loaded in this process.</summary>
    static (string Path, ulong Start, ulong Offset) ExecutableMapping(string fileName)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 6 || parts[1][2] != 'x' || Path.GetFileName(parts[5].Trim()) != fileName) continue;
            var start = ulong.Parse(parts[0][..parts[0].IndexOf('-')], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            return (parts[5].Trim(), start, ulong.Parse(parts[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        throw new InvalidOperationException($"{fileName} is not loaded in the test process");
    }

    static ElfFile Open(string path) => ElfFile.TryOpen(path) ?? throw new InvalidOperationException($"{path} did not open as x86-64 ELF");

    /// <summary>Where the dynamic linker put <paramref name="function"/> of the loaded library, as a file virtual address.</summary>
    static ulong LoadedAddress(ElfFile elf, (string Path, ulong Start, ulong Offset) mapping, string function)
    {
        var export = (ulong)NativeLibrary.GetExport(NativeLibrary.Load(mapping.Path), function);
        var bias = elf.LoadBias(mapping.Start, mapping.Offset) ?? throw new InvalidOperationException("no segment holds the mapping");
        return export - bias;
    }

    [Theory]
    [InlineData("libc.so.6", "usleep")]
    [InlineData("libc.so.6", "recvmsg")]
    [InlineData("libc.so.6", "pthread_cond_wait")]
    // lld lays its segments out so that two share a file page: the load bias must come from the right one.
    [InlineData("libSystem.Native.so", "SystemNative_ReceiveMessage")]
    public void A_loaded_function_is_named_back_from_its_address(string library, string function)
    {
        if (library == "libSystem.Native.so") NativeLibrary.Load(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), library));
        var mapping = ExecutableMapping(library);
        using var elf = Open(mapping.Path);
        var symbols = ElfSymbols.Read(elf);
        var address = LoadedAddress(elf, mapping, function);

        // At its first byte and inside it; an alias (__recvmsg, __pthread_cond_wait) may be the name chosen.
        foreach (var probe in new[] { address, address + 1 })
        {
            var name = symbols.NameOf(probe);
            Assert.NotNull(name);
            Assert.Contains(function.TrimStart('_'), name);
        }
        Assert.NotEqual(symbols.NameOf(address - 1), symbols.NameOf(address + 1));
    }

    [Fact]
    public void A_symbol_found_by_name_has_the_address_the_dynamic_linker_gave_it()
    {
        var mapping = ExecutableMapping("libc.so.6");
        using var elf = Open(mapping.Path);
        var symbols = ElfSymbols.Read(elf);

        Assert.Equal(LoadedAddress(elf, mapping, "usleep"), symbols.AddressOf("usleep"));
        Assert.Null(symbols.AddressOf("no_such_function_in_libc"));
    }

    [Fact]
    public void The_header_table_and_a_scan_of_eh_frame_find_the_same_FDEs()
    {
        var mapping = ExecutableMapping("libc.so.6");
        using var elf = Open(mapping.Path);
        var indexed = EhFrame.Load(elf)!;
        var scanned = EhFrame.Load(elf, preferScan: true)!;
        Assert.Equal("header", indexed.Index);
        Assert.Equal("scan", scanned.Index);

        foreach (var function in new[] { "usleep", "recvmsg", "pthread_cond_wait", "malloc", "clock_nanosleep" })
        {
            var address = LoadedAddress(elf, mapping, function) + 2;
            var fromHeader = indexed.Find(address);
            var fromScan = scanned.Find(address);
            Assert.NotNull(fromHeader);
            Assert.NotNull(fromScan);
            Assert.InRange(address, fromHeader.Value.PcBegin, fromHeader.Value.PcEnd - 1);
            Assert.Equal((fromHeader.Value.PcBegin, fromHeader.Value.PcEnd), (fromScan.Value.PcBegin, fromScan.Value.PcEnd));
        }
        Assert.Null(indexed.Find(0)); // the ELF header: no code, no FDE
    }

    [Theory]
    [InlineData("usleep")]
    [InlineData("recvmsg")]
    [InlineData("pthread_cond_wait")]
    [InlineData("malloc")]
    public void At_a_function_entry_the_CFA_is_rsp_plus_8_with_the_return_address_below_it(string function)
    {
        var mapping = ExecutableMapping("libc.so.6");
        using var elf = Open(mapping.Path);
        var frames = EhFrame.Load(elf)!;
        var entry = LoadedAddress(elf, mapping, function);

        var row = CfiInterpreter.RowFor(frames, frames.Find(entry)!.Value, entry);

        Assert.NotNull(row);
        Assert.Equal(CfaKind.RegisterOffset, row.CfaKind);
        Assert.Equal(UnwindRow.Rsp, row.CfaRegister);
        Assert.Equal(8, row.CfaOffset);
        Assert.Equal(new RegisterRule(RuleKind.Offset, -8), row.Rules[UnwindRow.ReturnAddress]);
        Assert.False(row.IsSignalFrame);
    }

    [Fact]
    public void A_PLT_stub_uses_the_one_CFA_expression_that_is_understood()
    {
        var mapping = ExecutableMapping("libc.so.6");
        using var elf = Open(mapping.Path);
        var plt = elf.FindSection(".plt") ?? throw new InvalidOperationException("this libc has no .plt section");
        var frames = EhFrame.Load(elf)!;
        var stub = plt.Address + 0x20; // past PLT0: the second stub

        var row = CfiInterpreter.RowFor(frames, frames.Find(stub)!.Value, stub);

        Assert.NotNull(row);
        Assert.Equal(CfaKind.Plt, row.CfaKind);
        Assert.Equal(8, row.CfaOffset);
        Assert.Equal(15, row.PltMask);
        Assert.InRange(row.PltThreshold, (byte)10, (byte)11); // binutils versions differ
        Assert.Equal(3, row.PltShift);
    }

    [Fact]
    public void A_library_that_cannot_be_unwound_says_so_instead_of_guessing()
    {
        using var dir = new Infrastructure.TempDirectory();
        var notElf = dir.File("libfake.so");
        File.WriteAllText(notElf, "not an ELF file");
        var mapping = ExecutableMapping("libc.so.6");
        using var libc = Open(mapping.Path);
        var usleep = LoadedAddress(libc, mapping, "usleep");

        using var fake = new ElfModule("libfake.so", notElf, unwindDisabled: false);
        using var switchedOff = new ElfModule("libc.so.6", mapping.Path, unwindDisabled: true);
        using var real = new ElfModule("libc.so.6", mapping.Path, unwindDisabled: false);

        Assert.Null(fake.File);
        Assert.Equal(ElfModule.RowStatus.Unsupported, fake.TryGetRow(0x1000, out _));
        Assert.Equal(ElfModule.RowStatus.Unsupported, switchedOff.TryGetRow(usleep, out _));
        Assert.Equal(ElfModule.RowStatus.Found, real.TryGetRow(usleep, out var row));
        Assert.NotNull(row);
        Assert.Equal(ElfModule.RowStatus.NoFde, real.TryGetRow(0, out _));
        Assert.Equal("usleep", real.FunctionAt(usleep));
    }

    [Fact]
    public void A_function_is_found_from_any_of_its_addresses_by_its_unwind_entry()
    {
        var mapping = ExecutableMapping("libc.so.6");
        using var libc = Open(mapping.Path);
        var usleep = LoadedAddress(libc, mapping, "usleep");
        using var module = new ElfModule("libc.so.6", mapping.Path, unwindDisabled: false);
        using var switchedOff = new ElfModule("libc.so.6", mapping.Path, unwindDisabled: true);

        Assert.Equal(usleep, module.FunctionStartOf(usleep + 5));
        Assert.Null(switchedOff.FunctionStartOf(usleep + 5));
    }

    [Theory]
    [InlineData(62, true)] // x86-64
    [InlineData(183, false)] // arm64: its registers are not the unwinder's, so its libraries fall back
    public void Only_x86_64_files_are_opened(ushort machine, bool opened)
    {
        using var dir = new Infrastructure.TempDirectory();
        var header = new byte[64];
        header[0] = 0x7f;
        "ELF"u8.CopyTo(header.AsSpan(1));
        header[4] = 2; // 64-bit
        header[5] = 1; // little-endian
        header[6] = 1;
        BitConverter.TryWriteBytes(header.AsSpan(18), machine);
        BitConverter.TryWriteBytes(header.AsSpan(54), (ushort)56); // program header size, none of them
        File.WriteAllBytes(dir.File("lib.so"), header);

        using var elf = ElfFile.TryOpen(dir.File("lib.so"));

        Assert.Equal(opened, elf is not null);
    }
}
