using System.Text;

namespace Snapper.Sampling.Linux;

/// <summary>
/// Tells a .NET app whose runtime is linked into its executable (no libcoreclr.so to find) from a native program,
/// so that refusing it can say why. Both kinds export a well-known symbol for diagnostic tools, and an ELF
/// executable's dynamic symbol names sit near its start.
/// </summary>
static class EmbeddedRuntime
{
    const int Searched = 1 << 20;
    static readonly byte[] SingleFileExport = Encoding.ASCII.GetBytes("DotNetRuntimeInfo\0");
    static readonly byte[] NativeAotExport = Encoding.ASCII.GetBytes("DotNetRuntimeDebugHeader\0");

    /// <summary>
    /// "a self-contained single-file .NET 8.0.31 app" (its version from the runtime linked in, when readable), "a
    /// NativeAOT .NET app", or null (neither, or unreadable).
    /// </summary>
    public static string? Describe(int pid)
    {
        byte[] head;
        try
        {
            using var exe = File.OpenRead($"/proc/{pid}/exe");
            head = new byte[Searched];
            head = head[..exe.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The single-file host also carries the NativeAOT name (as text in the runtime), so look for its own first.
        if (head.AsSpan().IndexOf(SingleFileExport) >= 0)
            return RuntimeVersion.Of($"/proc/{pid}/exe") is { } version ? $"a self-contained single-file .NET {version} app" : "a self-contained single-file .NET app";
        if (head.AsSpan().IndexOf(NativeAotExport) >= 0) return "a NativeAOT .NET app";
        return null;
    }
}
