using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// File and line of an IL offset, from the portable PDB beside an assembly or embedded in it. Each module's PDB is
/// opened once; a module without one is remembered as such, so a missing PDB costs nothing after the first look.
/// </summary>
sealed class SourceLines(Func<string, string> hostPathOf) : IDisposable
{
    readonly Dictionary<string, MetadataReaderProvider?> _pdbs = new(StringComparer.Ordinal);

    /// <summary>How many modules were found to have a PDB so far: when it grows, frames walked before can now get lines.</summary>
    public int PdbsFound { get; private set; }

    /// <summary>The source position of <paramref name="ilOffset"/> in the method with <paramref name="methodToken"/>, or null.</summary>
    public (string File, int Line)? Find(string? modulePath, int methodToken, int ilOffset)
    {
        if (modulePath is null || ilOffset < 0 || (methodToken >> 24) != 0x06) return null;
        if (Open(modulePath) is not { } provider) return null;
        try
        {
            var reader = provider.GetMetadataReader();
            var method = MetadataTokens.MethodDefinitionHandle(methodToken & 0xFFFFFF);
            SequencePoint? best = null;
            foreach (var point in reader.GetMethodDebugInformation(method).GetSequencePoints())
            {
                // The last visible sequence point at or before the offset: the statement being executed.
                if (point.IsHidden || point.Offset > ilOffset) continue;
                if (best is null || point.Offset >= best.Value.Offset) best = point;
            }
            if (best is not { } found) return null;
            return (reader.GetString(reader.GetDocument(found.Document).Name), found.StartLine);
        }
        catch (Exception e) when (e is BadImageFormatException or ArgumentException or InvalidOperationException)
        {
            return null; // a PDB that does not match the assembly, or a damaged one: say nothing rather than something wrong
        }
    }

    /// <summary>Whether the module has a PDB to read lines from; null when nobody has looked yet (see <see cref="Probe"/>).</summary>
    public bool? HasPdb(string modulePath) => _pdbs.TryGetValue(modulePath, out var provider) ? provider is not null : null;

    /// <summary>Looks for the module's PDB, once: file work, so never while the target is stopped.</summary>
    public void Probe(string? modulePath)
    {
        if (modulePath is not null) Open(modulePath);
    }

    MetadataReaderProvider? Open(string modulePath)
    {
        if (_pdbs.TryGetValue(modulePath, out var cached)) return cached;
        MetadataReaderProvider? provider = null;
        var path = hostPathOf(modulePath);
        try
        {
            using var pe = new PEReader(File.OpenRead(path));
            // Embedded first, then the PDB the assembly names, then one beside it.
            pe.TryOpenAssociatedPortablePdb(path, pdb => File.Exists(pdb) ? File.OpenRead(pdb) : null, out provider, out _);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException or InvalidOperationException)
        {
            provider = null;
        }
        _pdbs[modulePath] = provider;
        if (provider is not null) PdbsFound++;
        return provider;
    }

    public void Dispose()
    {
        foreach (var provider in _pdbs.Values) provider?.Dispose();
        _pdbs.Clear();
    }
}
