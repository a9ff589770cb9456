using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Finds the native function a P/Invoke calls, from the ImplMap of the method's module file. Handles both a plain
/// [DllImport] method and a [LibraryImport] wrapper, whose real P/Invoke is a generated local function of the
/// same type named <c>&lt;Wrapper&gt;g____PInvoke|...</c> (that is how the BCL calls libSystem.Native).
/// </summary>
/// <param name="hostPathOf">Maps a module path as the target sees it to one Snapper can open.</param>
sealed class PInvokeNames(Func<string, string> hostPathOf) : IDisposable
{
    readonly Dictionary<string, (PEReader Pe, MetadataReader Metadata)?> _modules = new(StringComparer.Ordinal);

    /// <summary>
    /// The native function <paramref name="method"/> calls: itself a P/Invoke, a [LibraryImport] wrapper, or (when the
    /// runtime inlined the P/Invoke into it, as the BCL's Thread.Sleep does) the one P/Invoke its IL calls.
    /// </summary>
    public (string Library, string EntryPoint)? TryGetImport(ClrMethod method)
    {
        try
        {
            var path = method.Type?.Module?.Name;
            if (path is null || method.MetadataToken == 0) return null;
            if (Open(path) is not { } module) return null;
            var handle = MetadataTokens.MethodDefinitionHandle(method.MetadataToken & 0xFFFFFF);
            return ImportOf(module.Metadata, handle) ?? ImportCalledBy(module.Pe, module.Metadata, handle);
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    static (string, string)? ImportOf(MetadataReader metadata, MethodDefinitionHandle handle)
    {
        var definition = metadata.GetMethodDefinition(handle);
        if (Import(metadata, definition) is { } direct) return direct;
        // [LibraryImport] wrapper: its real P/Invoke is a generated local function of the same type.
        var prefix = "<" + metadata.GetString(definition.Name) + ">g____PInvoke|";
        var type = metadata.GetTypeDefinition(definition.GetDeclaringType());
        return Unique(type.GetMethods()
            .Where(m => metadata.GetString(metadata.GetMethodDefinition(m).Name).StartsWith(prefix, StringComparison.Ordinal))
            .Select(m => Import(metadata, metadata.GetMethodDefinition(m))));
    }

    static (string, string)? ImportCalledBy(PEReader pe, MetadataReader metadata, MethodDefinitionHandle handle)
    {
        var rva = metadata.GetMethodDefinition(handle).RelativeVirtualAddress;
        if (rva == 0) return null;
        var il = pe.GetMethodBody(rva).GetILBytes();
        if (il is null) return null;
        return Unique(ILCalls.CalledTokens(il)
            .Select(token => MetadataTokens.EntityHandle(token))
            .Where(entity => entity.Kind == HandleKind.MethodDefinition)
            .Select(entity => ImportOf(metadata, (MethodDefinitionHandle)entity)));
    }

    /// <summary>The one import among the candidates; null when there is none or they disagree (never guess).</summary>
    static (string, string)? Unique(IEnumerable<(string, string)?> candidates)
    {
        (string, string)? found = null;
        foreach (var candidate in candidates)
        {
            if (candidate is null) continue;
            if (found is not null && found != candidate) return null;
            found = candidate;
        }
        return found;
    }

    static (string, string)? Import(MetadataReader metadata, MethodDefinition definition)
    {
        if ((definition.Attributes & MethodAttributes.PinvokeImpl) == 0) return null;
        var import = definition.GetImport();
        if (import.Module.IsNil) return null;
        var library = metadata.GetString(metadata.GetModuleReference(import.Module).Name);
        var entry = import.Name.IsNil ? metadata.GetString(definition.Name) : metadata.GetString(import.Name);
        return (LibraryDisplayName(library), entry);
    }

    /// <summary>"libc.so.6", "libc" and "/usr/lib/libc.so.6" all read as "libc"; ".dll" is dropped too.</summary>
    static string LibraryDisplayName(string library)
    {
        var name = Path.GetFileName(library);
        var so = name.IndexOf(".so", StringComparison.Ordinal);
        if (so > 0) name = name[..so];
        if (name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) name = name[..^4];
        return name;
    }

    (PEReader Pe, MetadataReader Metadata)? Open(string path)
    {
        if (_modules.TryGetValue(path, out var cached)) return cached;
        (PEReader, MetadataReader)? module = null;
        PEReader? pe = null;
        var file = hostPathOf(path);
        try
        {
            if (File.Exists(file))
            {
                pe = new PEReader(File.OpenRead(file));
                if (pe.HasMetadata) module = (pe, pe.GetMetadataReader());
            }
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or UnauthorizedAccessException)
        {
            module = null;
        }
        if (module is null) pe?.Dispose();
        _modules[path] = module;
        return module;
    }

    public void Dispose()
    {
        foreach (var module in _modules.Values) module?.Pe.Dispose();
        _modules.Clear();
    }
}
