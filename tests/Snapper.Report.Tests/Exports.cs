using Snapper.Report.Export;
using Snapper.Store;

namespace Snapper.Report.Tests;

/// <summary>Runs an exporter in memory or to a file for the export tests, and what the reports say the totals are.</summary>
static class Exports
{
    /// <summary>A fixed exporter name, so golden files do not change with Snapper's version.</summary>
    public static readonly ExportOptions Fixed = new(Exporter: "snapper@golden");

    public static byte[] Bytes(ExportFormat format, Profile profile, ExportOptions? options = null)
    {
        using var output = new MemoryStream();
        ProfileExporters.Create(format, options ?? Fixed).Write(profile, output);
        return output.ToArray();
    }

    public static string Text(ExportFormat format, Profile profile, ExportOptions? options = null) =>
        System.Text.Encoding.UTF8.GetString(Bytes(format, profile, options));

    public static string ToFile(string directory, ExportFormat format, Profile profile, ExportOptions? options = null)
    {
        var exporter = ProfileExporters.Create(format, options ?? Fixed);
        var path = Path.Combine(directory, "profile" + exporter.FileExtension);
        using (var file = File.Create(path)) exporter.Write(profile, file);
        return path;
    }

    /// <summary>The wall time one sample stands for, by the documented rule: 1 / achieved rate, in whole nanoseconds.</summary>
    public static long PeriodNs(Profile profile) => (long)Math.Round(1e9 / profile.Session.AchievedRate);

    /// <summary>The report's per-method counts by display name (the test profiles have no two methods of one name).</summary>
    public static Dictionary<string, FunctionStats> FunctionsByName(ProfileAnalysis analysis, Func<string, string>? rename = null) =>
        analysis.Functions.ToDictionary(f => (rename ?? (n => n))(f.Method.DisplayName));

    /// <summary>The report's thread nodes by label: what each thread shows (total, frameless self, CPU) after the idle rule.</summary>
    public static Dictionary<string, CallTreeNode> ThreadNodes(ProfileAnalysis analysis) =>
        analysis.CallTree.Children.ToDictionary(n => n.Thread!.Label);
}
