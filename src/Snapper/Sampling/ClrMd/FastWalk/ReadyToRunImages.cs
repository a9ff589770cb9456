using System.Buffers.Binary;
using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// The function tables of the ReadyToRun images the runtime has loaded (most of the framework's code until it is
/// re-compiled at tier 1): PE header, CLI header, ReadyToRun header, its RuntimeFunctions section. Images are mapped
/// section by section at their RVAs on Linux, so an RVA is the image base plus it; an image that is not (its table
/// does not find the runtime's own method start) is not used. Read once per image: images do not change.
/// </summary>
sealed class ReadyToRunImages(ClrRuntime runtime)
{
    const uint ReadyToRunSignature = 0x00525452; // "RTR"
    const uint RuntimeFunctionsSection = 102;

    /// <summary>An image's extent and function table (Count 0: not ReadyToRun, or unreadable).</summary>
    sealed record Image(ulong Base, ulong End, ulong Table, int Count);

    Image[] _images = [];
    readonly Dictionary<ulong, Image> _parsed = new();

    /// <summary>The function-table entries of the method whose body starts at <paramref name="start"/> and holds
    /// <paramref name="address"/>: its body first, then its funclets; with the base their offsets are from.</summary>
    public (ulong Base, RuntimeFunction[] Functions)? Find(ulong address, ulong start, ulong size, IWalkMemory memory)
    {
        var image = ImageOf(address, memory) ?? (Refresh(memory) ? ImageOf(address, memory) : null);
        if (image is null || image.Count == 0 || start < image.Base) return null;
        var begin = start - image.Base;
        // Entries are sorted by Begin: binary search for the body's.
        int lo = 0, hi = image.Count - 1, found = -1;
        Span<byte> entry = stackalloc byte[RuntimeFunction.Size];
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (memory.Read(image.Table + (ulong)mid * RuntimeFunction.Size, entry) != entry.Length) return null;
            var function = RuntimeFunction.Read(entry);
            if (function.Begin == begin) { found = mid; break; }
            if (function.Begin < begin) lo = mid + 1;
            else hi = mid - 1;
        }
        if (found < 0) return null;
        var functions = new List<RuntimeFunction>();
        for (var i = found; i < image.Count; i++)
        {
            if (memory.Read(image.Table + (ulong)i * RuntimeFunction.Size, entry) != entry.Length) return null;
            var function = RuntimeFunction.Read(entry);
            if (function.Begin >= begin + size) break;
            functions.Add(function);
        }
        return (image.Base, [.. functions]);
    }

    Image? ImageOf(ulong address, IWalkMemory memory)
    {
        foreach (var image in _images)
            if (image.Base <= address && address < image.End)
                return _parsed.TryGetValue(image.Base, out var parsed) ? parsed : _parsed[image.Base] = Parse(image.Base, image.End, memory);
        return null;
    }

    /// <returns>True when the module list changed.</returns>
    bool Refresh(IWalkMemory memory)
    {
        var images = new List<Image>();
        try
        {
            foreach (var module in runtime.EnumerateModules())
                if (module.ImageBase != 0 && module.Size > 0) images.Add(new Image(module.ImageBase, module.ImageBase + module.Size, 0, 0));
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ClrDiagnosticsException)
        {
            return false;
        }
        if (images.Count == _images.Length) return false;
        _images = [.. images];
        return true;
    }

    static Image Parse(ulong imageBase, ulong end, IWalkMemory memory)
    {
        var none = new Image(imageBase, end, 0, 0);
        uint U32(ulong address) => Read(memory, address, 4) is { } b ? BinaryPrimitives.ReadUInt32LittleEndian(b) : 0;
        ushort U16(ulong address) => Read(memory, address, 2) is { } b ? BinaryPrimitives.ReadUInt16LittleEndian(b) : (ushort)0;
        var pe = imageBase + U32(imageBase + 0x3C);
        if (U32(pe) != 0x4550) return none; // "PE\0\0"
        var optional = pe + 24;
        if (U16(optional) != 0x20B) return none; // PE32+
        var cliRva = U32(optional + 112 + 14 * 8); // data directory 14: the CLI header
        if (cliRva == 0) return none;
        var nativeHeaderRva = U32(imageBase + cliRva + 0x40); // IMAGE_COR20_HEADER.ManagedNativeHeader
        if (nativeHeaderRva == 0) return none;
        var header = imageBase + nativeHeaderRva;
        if (U32(header) != ReadyToRunSignature) return none;
        var sections = U32(header + 12);
        for (var i = 0u; i < Math.Min(sections, 64u); i++)
        {
            var section = header + 16 + i * 12;
            if (U32(section) != RuntimeFunctionsSection) continue;
            var rva = U32(section + 4);
            var size = U32(section + 8);
            return rva == 0 ? none : new Image(imageBase, end, imageBase + rva, (int)(size / RuntimeFunction.Size));
        }
        return none;
    }

    static byte[]? Read(IWalkMemory memory, ulong address, int count)
    {
        var buffer = new byte[count];
        return memory.Read(address, buffer) == count ? buffer : null;
    }
}
