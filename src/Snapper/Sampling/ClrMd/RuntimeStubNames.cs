using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// What a piece of code the runtime generated is, when it is no managed method: the kind of stub the runtime's stub
/// managers know it for (virtual stub dispatch's resolve, dispatch and vtable stubs, precodes, jump stubs, the write
/// barrier's copy), as SOS names it. The DAC's IXCLRDataProcess::GetRuntimeNameByAddress answers
/// "CLRStub[VSD_ResolveStub]@7f3b..."; ClrMD does not expose it, so it is called through the vtable of the interface
/// ClrMD holds (see <see cref="DacInterfaces"/>). Asked only while the target is stopped, as the walks' DAC calls are;
/// answers are kept per address (stubs stay where they are made) and name later samples from there.
/// </summary>
sealed unsafe class RuntimeStubNames
{
    const int GetRuntimeNameByAddress = 15; // IUnknown's 3, then IXCLRDataProcess's 13th method (xclrdata.idl)
    const int MaxKept = 16_384;
    const string StubPrefix = "CLRStub[";

    readonly nint _process;
    readonly Dictionary<ulong, string?> _kinds = new();

    RuntimeStubNames(nint process) => _process = process;

    /// <summary>Null when ClrMD's DAC interface cannot be found (another ClrMD version).</summary>
    public static RuntimeStubNames? TryCreate(ClrRuntime runtime) =>
        DacInterfaces.Find(runtime, "ClrDataProcess") is { } process and not 0 ? new RuntimeStubNames(process) : null;

    /// <summary>Whether the DAC was asked about <paramref name="address"/> (it may have had no name for it).</summary>
    public bool Knows(ulong address) => _kinds.ContainsKey(address);

    /// <summary>Asks the DAC what the code at <paramref name="address"/> is. Only while the target is stopped.</summary>
    public void Learn(ulong address)
    {
        if (_kinds.Count >= MaxKept) _kinds.Clear();
        _kinds[address] = Parse(Ask(address));
    }

    /// <summary>The stub's kind ("VSD_ResolveStub"), or the runtime's name for the code, as learned; null when not known.</summary>
    public string? KindOf(ulong address) => _kinds.GetValueOrDefault(address);

    string? Ask(ulong address)
    {
        const uint capacity = 256;
        var buffer = stackalloc char[(int)capacity];
        uint length;
        ulong displacement;
        var vtable = *(nint**)_process;
        var result = ((delegate* unmanaged<nint, ulong, uint, uint, uint*, char*, ulong*, int>)vtable[GetRuntimeNameByAddress])(
            _process, address, 0, capacity, &length, buffer, &displacement);
        if (result != 0 || length == 0) return null; // S_FALSE: longer than any stub's name; an error: none
        return new string(buffer, 0, (int)Math.Min(length, capacity) - 1); // the length counts the terminating null
    }

    /// <summary>"CLRStub[Kind]@address" gives Kind; another name is kept whole; none, null.</summary>
    internal static string? Parse(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        if (!name.StartsWith(StubPrefix, StringComparison.Ordinal)) return name;
        var end = name.IndexOf(']', StubPrefix.Length);
        return end > StubPrefix.Length ? name[StubPrefix.Length..end] : null;
    }
}
