using System.Text;
using Snapper.Sampling.Unwind;

namespace Snapper.Sampling;

/// <summary>
/// The version of the .NET runtime a target runs, read from the runtime's own binary (libcoreclr.so, or the executable
/// a single-file app links it into), so that it is right however the app is deployed. .NET's build stamps every native
/// binary with an SCCS "what" string, <c>static char sccsid[] = "@(#)Version 8.0.3126.42015 @Commit: …"</c>, in its
/// data: framework-dependent, self-contained and single-file apps all carry it. The shared runtime's directory name
/// (…/Microsoft.NETCore.App/8.0.31/) is missing from a self-contained app, and the version ClrMD reports was 0.0 for
/// every live target tried, .NET 8, 9 and 10 (docs/runtimes.md).
/// </summary>
static class RuntimeVersion
{
    static readonly byte[] Marker = "@(#)Version "u8.ToArray();

    /// <summary>The file version of a developer's own build of the runtime, which has no product version.</summary>
    const string DeveloperBuild = "42.42.42.42424";

    /// <summary>
    /// The product version of the runtime binary at <paramref name="path"/> (a path Snapper can open: see
    /// <see cref="TargetProcess.HostPathOf"/>), such as "8.0.31". In a shared runtime's directory
    /// (…/Microsoft.NETCore.App/&lt;version&gt;/) that agrees with it, the directory's name, which keeps a preview's
    /// label ("10.0.0-rc.1.25451.107"). Null when neither says.
    /// </summary>
    public static string? Of(string path)
    {
        var fromBinary = ReadWhatString(path) is { } fileVersion ? FromFileVersion(fileVersion) : null;
        var directory = Path.GetDirectoryName(path) ?? "";
        if (Path.GetFileName(Path.GetDirectoryName(directory)) != "Microsoft.NETCore.App") return fromBinary;
        var name = Path.GetFileName(directory);
        var agrees = fromBinary is null
            ? Version.TryParse(name.Split('-')[0], out _)
            : name == fromBinary || name.StartsWith(fromBinary + "-", StringComparison.Ordinal);
        return agrees ? name : fromBinary;
    }

    /// <summary>
    /// The product version that a file version written by .NET's build (Arcade) encodes: major.(minor × 100 + patch /
    /// 100).(patch % 100 × 100 + year).(date), so 8.0.3126.42015 is 8.0.31 and 10.0.1226.42308 is 10.0.12. Null for
    /// anything else, such as .NET Core 3's 4.700.x.y, which was not the product's version.
    /// </summary>
    public static string? FromFileVersion(string fileVersion)
    {
        if (fileVersion == DeveloperBuild || !Version.TryParse(fileVersion, out var v) || v.Major < 5 || v.Revision < 0) return null;
        return $"{v.Major}.{v.Minor / 100}.{v.Minor % 100 * 100 + v.Build / 100}";
    }

    /// <summary>The file version in the binary's "@(#)Version" string, or null when the file or the string is missing.</summary>
    static string? ReadWhatString(string path)
    {
        using var elf = ElfFile.TryOpen(path);
        if (elf is null) return null;
        try
        {
            // A writable static: in .data. Should the section headers be gone, it is in one of the loadable segments.
            IEnumerable<(ulong Offset, ulong Size)> places = elf.FindSection(".data") is { } data
                ? [(data.Offset, data.Size)]
                : elf.Segments.Where(s => s.Type == ElfFile.PT_LOAD).Select(s => (s.Offset, s.FileSize));
            foreach (var (offset, size) in places)
            {
                var bytes = elf.Read(offset, size);
                var at = bytes.AsSpan().IndexOf(Marker);
                if (at < 0) continue;
                var rest = bytes.AsSpan(at + Marker.Length);
                var end = rest.IndexOfAny((byte)' ', (byte)0);
                return Encoding.ASCII.GetString(end < 0 ? rest : rest[..end]);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            // A truncated or odd file: no version from it.
        }
        return null;
    }
}
