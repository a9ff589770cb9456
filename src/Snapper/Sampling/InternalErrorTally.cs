using Snapper.Store;

namespace Snapper.Sampling;

/// <summary>
/// Counts a capture's bugs of Snapper's own per reason (see <see cref="SnapperBugs"/>). Bounded: a bug whose message
/// holds an address or an id would otherwise make a reason per snapshot; past <see cref="MaxReasons"/> they are counted
/// under one <see cref="OtherReasons"/>.
/// </summary>
public sealed class InternalErrorTally
{
    public const int MaxReasons = 20;
    public const string OtherReasons = "(other errors, past the first 20 kinds)";

    readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    public int Total { get; private set; }

    /// <summary>Counts one error and returns the reason it was counted under.</summary>
    public string Add(Exception error)
    {
        var reason = SnapperBugs.ReasonOf(error);
        if (!_counts.ContainsKey(reason) && _counts.Count >= MaxReasons) reason = OtherReasons;
        _counts[reason] = _counts.GetValueOrDefault(reason) + 1;
        Total++;
        return reason;
    }

    /// <summary>Most frequent first.</summary>
    public IReadOnlyList<InternalError> ToList() =>
        _counts.Select(c => new InternalError(c.Key, c.Value)).OrderByDescending(e => e.Count).ThenBy(e => e.Reason, StringComparer.Ordinal).ToList();
}
