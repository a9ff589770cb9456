using Snapper.Store;

namespace Snapper.Report.Export;

/// <summary>Writes one session in a format another tool reads. Each format is one implementation, made by <see cref="ProfileExporters"/>.</summary>
public interface IProfileExporter
{
    /// <summary>The file name ending the format's tools look for, such as <c>.speedscope.json</c>.</summary>
    string FileExtension { get; }

    /// <summary>False for a binary format, which must go to a file rather than to a terminal or a text pipe.</summary>
    bool IsText { get; }

    void Write(Profile profile, Stream output);
}
