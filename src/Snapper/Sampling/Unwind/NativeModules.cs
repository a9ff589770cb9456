using Snapper.Sampling.Linux;

namespace Snapper.Sampling.Unwind;

/// <summary>
/// The target's native libraries as Snapper reads them, for the whole session: which one holds a pc, and where it
/// was loaded (the bias from the file's virtual addresses). Each library's file is opened once, the first time a pc
/// falls in it; the unwinder (<c>--native</c>) and the naming of a native leaf share them.
/// </summary>
sealed class NativeModules(ExecutableRegions regions, Func<string, string> hostPathOf) : IDisposable
{
    readonly Dictionary<string, ElfModule> _modules = new(StringComparer.Ordinal);
    readonly Dictionary<(ulong Start, string Path), (ElfModule Module, ulong Bias)?> _mappings = new();

    /// <summary>The library mapped at <paramref name="pc"/> and its load bias; null for anonymous memory or a file that is no ELF.</summary>
    public (ElfModule Module, ulong Bias)? ModuleAt(ulong pc)
    {
        if (regions.FileMappingOf(pc) is not { } mapping) return null;
        if (_mappings.TryGetValue((mapping.Start, mapping.Path), out var known)) return known;
        (ElfModule, ulong)? result = null;
        var module = ModuleFor(mapping.Path);
        if (module.File?.LoadBias(mapping.Start, mapping.Offset) is { } bias) result = (module, bias);
        _mappings[(mapping.Start, mapping.Path)] = result;
        return result;
    }

    ElfModule ModuleFor(string path)
    {
        if (_modules.TryGetValue(path, out var module)) return module;
        module = new ElfModule(Path.GetFileName(path), hostPathOf(path), NativeUnwinder.Disabled);
        _modules[path] = module;
        return module;
    }

    public void Dispose()
    {
        foreach (var module in _modules.Values) module.Dispose();
        _modules.Clear();
    }
}
