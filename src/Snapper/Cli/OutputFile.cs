namespace Snapper.Cli;

/// <summary>
/// Where reports and exports go: a file, written atomically (a reader never sees half of one, and a failed write
/// leaves any earlier file in place), or stdout for "-". Every failure is one line naming the path.
/// </summary>
public static class OutputFile
{
    /// <summary>Fails before the work, not after it, when the output could not be written. <paramref name="what"/> names it in errors.</summary>
    public static void EnsureWritable(string path, string what)
    {
        if (path == "-") return;
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new SnapperException(ExitCode.OutputError, $"cannot write {what} '{path}': it is a directory");
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir))
            throw new SnapperException(ExitCode.OutputError, $"cannot write {what} '{path}': directory '{dir}' does not exist");
        var probe = Path.Combine(dir, $".snapper-probe-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SnapperException(ExitCode.OutputError, $"cannot write {what} '{path}': directory '{dir}' is not writable");
        }
    }

    public static void Write(string path, string what, Action<Stream> render)
    {
        if (path == "-")
        {
            try
            {
                using var stdout = new BufferedStream(Console.OpenStandardOutput(), 1 << 16);
                render(stdout);
            }
            catch (IOException e)
            {
                throw new SnapperException(ExitCode.OutputError, $"cannot write {what} to stdout: {e.Message}");
            }
            return;
        }
        EnsureWritable(path, what);
        var full = Path.GetFullPath(path);
        var temp = full + $".tmp-{Environment.ProcessId}";
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                render(file);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new SnapperException(ExitCode.OutputError, $"cannot write {what} '{path}': {e.Message}");
        }
    }

    /// <summary>The default output of a session: <c>&lt;db&gt;-session-&lt;id&gt;&lt;extension&gt;</c> in the database's directory.</summary>
    public static string BesideDatabase(string dbPath, long sessionId, string extension) =>
        BesideDatabase(dbPath, "session-" + sessionId.ToString(System.Globalization.CultureInfo.InvariantCulture), extension);

    /// <summary>"/var/lib/snapper/app-&lt;what&gt;.html" for "/var/lib/snapper/app.db".</summary>
    public static string BesideDatabase(string dbPath, string what, string extension)
    {
        var full = Path.GetFullPath(dbPath);
        return Path.Combine(Path.GetDirectoryName(full)!, $"{Path.GetFileNameWithoutExtension(full)}-{what}{extension}");
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
