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
sealed class PInvokeNames : IDisposable
{
    readonly Dictionary<string, (PEReader? Pe, MetadataReader? Metadata)> _modules = new(StringComparer.Ordinal);

    public (string Library, string EntryPoint)? TryGetImport(ClrMethod method)
    {
        try
        {
            var path = method.Type?.Module?.Name;
            if (path is null || method.MetadataToken == 0) return null;
            var metadata = Open(path);
            if (metadata is null) return null;
            var handle = MetadataTokens.MethodDefinitionHandle(method.MetadataToken & 0xFFFFFF);
            var definition = metadata.GetMethodDefinition(handle);
            if (Import(metadata, definition) is { } direct) return direct;
            // [LibraryImport] wrapper: look for its generated P/Invoke in the declaring type.
            var wrapperName = metadata.GetString(definition.Name);
            var prefix = "<" + wrapperName + ">g____PInvoke|";
            var type = metadata.GetTypeDefinition(definition.GetDeclaringType());
            (string, string)? found = null;
            foreach (var candidateHandle in type.GetMethods())
            {
                var candidate = metadata.GetMethodDefinition(candidateHandle);
                if (!metadata.GetString(candidate.Name).StartsWith(prefix, StringComparison.Ordinal)) continue;
                if (Import(metadata, candidate) is not { } import) continue;
                if (found is not null && found != import) return null; // overloads with different targets: don't guess
                found = import;
            }
            return found;
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
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

    MetadataReader? Open(string path)
    {
        if (_modules.TryGetValue(path, out var cached)) return cached.Metadata;
        PEReader? pe = null;
        MetadataReader? metadata = null;
        try
        {
            if (File.Exists(path))
            {
                pe = new PEReader(File.OpenRead(path));
                metadata = pe.HasMetadata ? pe.GetMetadataReader() : null;
            }
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or UnauthorizedAccessException)
        {
            pe?.Dispose();
            pe = null;
            metadata = null;
        }
        _modules[path] = (pe, metadata);
        return metadata;
    }

    public void Dispose()
    {
        foreach (var (pe, _) in _modules.Values) pe?.Dispose();
        _modules.Clear();
    }
}
