using Snapper.Report;
using Snapper.Store;

namespace Snapper.Cli;

public enum ReportFormat
{
    Html,
    Text,
    Json,
}

/// <summary>Writes reports to files (atomically: a reader never sees half a report) or to stdout for "-".</summary>
public static class ReportFiles
{
    /// <summary>Fails before a long capture, not after it, when the report could not be written.</summary>
    public static void EnsureWritable(string path)
    {
        if (path == "-") return;
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new SnapperException(ExitCode.OutputError, $"cannot write report '{path}': it is a directory");
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir))
            throw new SnapperException(ExitCode.OutputError, $"cannot write report '{path}': directory '{dir}' does not exist");
        var probe = Path.Combine(dir, $".snapper-probe-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SnapperException(ExitCode.OutputError, $"cannot write report '{path}': directory '{dir}' is not writable");
        }
    }

    public static void Write(Profile profile, ReportFormat format, string path, ReportOptions options)
    {
        if (path == "-")
        {
            using var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false)) { AutoFlush = false };
            Render(profile, format, stdout, options);
            return;
        }
        EnsureWritable(path);
        var full = Path.GetFullPath(path);
        var temp = full + $".tmp-{Environment.ProcessId}";
        try
        {
            using (var file = new StreamWriter(temp, append: false, new System.Text.UTF8Encoding(false)))
                Render(profile, format, file, options);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new SnapperException(ExitCode.OutputError, $"cannot write report '{path}': {e.Message}");
        }
    }

    static void Render(Profile profile, ReportFormat format, TextWriter output, ReportOptions options)
    {
        switch (format)
        {
            case ReportFormat.Html: HtmlReportWriter.Write(profile, output, options); break;
            case ReportFormat.Text: TextReportWriter.Write(profile, output, options); break;
            case ReportFormat.Json: JsonReportWriter.Write(profile, output, options); break;
        }
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
