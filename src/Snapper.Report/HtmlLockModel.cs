using Snapper.Store;

namespace Snapper.Report;

/// <summary>A row of a lock's table: a share and what it is of (a place, a thread); <see cref="Muted"/> for "no holder named".</summary>
sealed record LockShareRow(string Share, string Text, bool Muted = false);

/// <summary>A holder stack: its share, state and innermost frames, leaf first.</summary>
sealed record LockStackRow(string Share, string State, string StateCss, IReadOnlyList<string> Frames);

/// <summary>One lock of the HTML report's contention section, every value a string already (see <see cref="HtmlReportModel"/>).</summary>
sealed record LockView(
    string Kind,
    string Type,
    string Address,
    string WaitShare,
    string WaitSamples,
    string Waiters,
    string SnapshotShare,
    IReadOnlyList<LockShareRow> TakenAt,
    IReadOnlyList<LockShareRow> Owners,
    string OwnerSamples,
    IReadOnlyList<LockStackRow> OwnerStacks)
{
    /// <summary>The target's names are left as they are: the template's {{ }} escapes them.</summary>
    public static List<LockView> Of(LockContention contention) => contention.Locks.Select(contended =>
    {
        var owners = contended.Owners.Select(o => new LockShareRow(LockContentionText.Share(o.Share), o.Thread.Label)).ToList();
        if (contended.UnnamedOwnerShare > 0)
            owners.Add(new LockShareRow(LockContentionText.Share(contended.UnnamedOwnerShare), LockContentionText.UnnamedOwner, Muted: true));
        return new LockView(
            contended.Lock.Kind.ToString(),
            contended.Lock.TypeName,
            LockContentionText.Address(contended.Lock),
            LockContentionText.Share(contended.WaitShare),
            ReportFormat.Count(contended.WaitSamples),
            LockContentionText.Threads(contended.WaiterThreads),
            LockContentionText.Share(contended.SnapshotShare),
            contended.TakenAt.Select(s => new LockShareRow(LockContentionText.Share(s.Share), LockContentionText.Place(s))).ToList(),
            owners,
            ReportFormat.Count(contended.OwnerSamples),
            contended.OwnerStacks.Select(s => new LockStackRow(LockContentionText.Share(s.Share),
                s.State == SampleState.Unknown ? "" : s.State.Name(), HtmlReportModel.StateCss(s.State),
                s.Frames.Count == 0 ? ["(no frames)"] : s.Frames)).ToList());
    }).ToList();
}
