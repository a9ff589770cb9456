namespace Snapper.Report.Export.Pprof;

/// <summary>pprof's string table: every string once, referred to by index, with index 0 the empty string as the format requires.</summary>
sealed class PprofStrings
{
    readonly Dictionary<string, long> _index = new(StringComparer.Ordinal) { [""] = 0 };

    public List<string> Table { get; } = [""];

    public long this[string value]
    {
        get
        {
            if (_index.TryGetValue(value, out var index)) return index;
            index = Table.Count;
            Table.Add(value);
            _index[value] = index;
            return index;
        }
    }
}
