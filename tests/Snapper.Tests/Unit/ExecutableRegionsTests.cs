using System.Globalization;
using Snapper.Sampling.Linux;

namespace Snapper.Tests.Unit;

/// <summary>
/// The map of executable memory, read from this very process: a .NET process like any target, with the JIT's code
/// pages, native libraries and the kernel's own pages ([vdso], and [vsyscall] at the top of the address space).
/// </summary>
public sealed class ExecutableRegionsTests
{
    [Fact]
    public void The_kernels_pages_are_native_code_named_as_the_kernel_names_them()
    {
        var vdso = Mappings().Single(m => m.Path == "[vdso]");
        var regions = new ExecutableRegions(Environment.ProcessId);
        Assert.True(regions.InNativeLibrary(vdso.Start));
        Assert.False(regions.MayBeManagedCode(vdso.Start));
        Assert.Equal("[vdso]", regions.ModuleOf(vdso.Start));
    }

    [Fact]
    public void An_unmapped_address_just_past_the_generated_code_may_be_new_code()
    {
        // [vsyscall] (ffffffffff600000) once counted as generated code: the span's slack wrapped around and nothing was.
        var maps = Mappings();
        var generated = maps.Where(m => m.Executable && (m.Path.Length == 0 || m.Path.StartsWith("/memfd:", StringComparison.Ordinal))).ToList();
        Assert.NotEmpty(generated);
        // Just past (or before) a page of generated code, where the next page of it is committed (reserved, not executable yet).
        var gap = generated.SelectMany(m => new[] { m.End, m.Start - 0x1000 }).First(a => !maps.Any(m => (m.Executable || m.Data) && m.Start <= a && a < m.End));
        var regions = new ExecutableRegions(Environment.ProcessId);
        regions.InNativeLibrary(0); // reads the mappings
        Assert.True(regions.MayBeNewCode(gap), $"{gap:x}, next to generated code");
        Assert.False(regions.MayBeNewCode(0x1000), "an address far below every mapping");
    }

    [Fact]
    public void A_pointer_into_data_next_to_the_generated_code_is_not_new_code()
    {
        // Heap pointers on a stopped thread's stack once re-read every mapping up to 50 times a second: new code is
        // committed in unmapped or reserved space, never in memory that was readable or writable data.
        var maps = Mappings();
        var generated = maps.Where(m => m.Executable && (m.Path.Length == 0 || m.Path.StartsWith("/memfd:", StringComparison.Ordinal))).ToList();
        var (low, high) = (generated.Min(m => m.Start), generated.Max(m => m.End));
        var data = maps.Where(m => m.Data && m.Start >= low && m.End <= high).ToList();
        Assert.NotEmpty(data); // the runtime's own data (loader heaps, W^X's writable views) lies among its code
        var regions = new ExecutableRegions(Environment.ProcessId);
        regions.InNativeLibrary(0); // reads the mappings
        foreach (var mapping in data) Assert.False(regions.MayBeNewCode(mapping.Start + 8), $"{mapping.Start:x} ({mapping.Path})");
    }

    [Fact]
    public void A_stack_word_in_memory_that_is_not_code_is_not_taken_for_managed_code()
    {
        // The native-leaf scan asks this of every word on a stack: data, reservations, small numbers and kernel addresses
        // are answered from the mappings as read, code as before.
        var maps = Mappings();
        var regions = new ExecutableRegions(Environment.ProcessId);
        var reserved = maps.First(m => !m.Executable && !m.Data);
        var data = maps.First(m => m.Data);
        Assert.False(regions.MayBeManagedCodeInStack(reserved.Start + 8), $"{reserved.Start:x}, reserved");
        Assert.False(regions.MayBeManagedCodeInStack(data.Start + 8), $"{data.Start:x}, data ({data.Path})");
        Assert.False(regions.MayBeManagedCodeInStack(42), "a small number");
        Assert.False(regions.MayBeManagedCodeInStack(0xffff_8000_0000_1000), "a kernel address");
        var jitted = (ulong)typeof(ExecutableRegionsTests).GetMethod(nameof(Mappings), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MethodHandle.GetFunctionPointer();
        Assert.True(regions.MayBeManagedCodeInStack(jitted), $"{jitted:x}, this test's own code");
        var libc = maps.First(m => m.Executable && m.Path.Contains("libc.so", StringComparison.Ordinal));
        Assert.False(regions.MayBeManagedCodeInStack(libc.Start + 16), "libc");
    }

    /// <param name="Data">Readable or writable, not executable.</param>
    sealed record Mapping(ulong Start, ulong End, bool Executable, bool Data, string Path);

    static List<Mapping> Mappings() =>
        File.ReadAllLines("/proc/self/maps").Select(line =>
        {
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            var range = fields[0].Split('-');
            return new Mapping(ulong.Parse(range[0], NumberStyles.HexNumber), ulong.Parse(range[1], NumberStyles.HexNumber), fields[1][2] == 'x',
                fields[1][2] != 'x' && (fields[1][0] == 'r' || fields[1][1] == 'w'), fields.Length > 5 ? fields[5].Trim() : "");
        }).ToList();
}
