using System.Globalization;
using System.Text;
using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// The text report's "Lock contention" section, and the words for a lock and the place it is taken, which the HTML
/// report uses too. Target strings go through <see cref="TerminalText.Clean"/> here, never in the shared words (the
/// HTML escapes them itself).
/// </summary>
static class LockContentionText
{
    /// <summary>"Monitor on App.Ledger", or "System.Threading.Lock": a Lock's type is the kind already.</summary>
    public static string Name(LockInfo info) => info.Kind switch
    {
        LockKind.Monitor => "Monitor on " + info.TypeName,
        _ => info.TypeName,
    };

    /// <summary>Where the lock was first seen: two locks of one type are told apart by it.</summary>
    public static string Address(LockInfo info) => "0x" + info.Address.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>"App.Orders.Place (Orders.cs:42)", the file name without its directory as the reports show lines.</summary>
    public static string Place(LockSite site) =>
        site.Frame is null ? "(no caller in the waiters' stacks)"
        : site.File is null ? site.Frame
        : $"{site.Frame} ({Path.GetFileName(site.File)}:{site.Line.ToString(CultureInfo.InvariantCulture)})";

    public const string UnnamedOwner = "no holder named (being handed over as it was read, or its holder not sampled)";

    public static string Share(double share) => ReportFormat.Percent(share * 100);

    /// <summary>"1 thread", "3 threads".</summary>
    public static string Threads(int count) => count == 1 ? "1 thread" : $"{ReportFormat.Integer(count)} threads";

    /// <summary>Nothing when no sample in the view waited on a lock: the section would only say so.</summary>
    public static void Write(StringBuilder text, LockContention contention)
    {
        if (contention.Locks.Count == 0) return;
        Line(text, "");
        Line(text, "Lock contention (threads blocked entering a lock, most waited first; shares of wall-clock samples)");
        foreach (var contended in contention.Locks)
        {
            Line(text, $"  {TerminalText.Clean(Name(contended.Lock))} at {Address(contended.Lock)}");
            Line(text, $"    {"waiting",-8}  {Share(contended.WaitShare),6} of samples ({ReportFormat.Count(contended.WaitSamples)}), " +
                       $"{Threads(contended.WaiterThreads)}, in {Share(contended.SnapshotShare)} of snapshots");
            Rows(text, "taken at", contended.TakenAt.Select(s => (s.Share, TerminalText.Clean(Place(s)))));
            var owners = contended.Owners.Select(o => (o.Share, TerminalText.Clean(o.Thread.Label))).ToList();
            if (contended.UnnamedOwnerShare > 0) owners.Add((contended.UnnamedOwnerShare, UnnamedOwner));
            Rows(text, "held by", owners);
            if (contended.OwnerStacks.Count == 0) continue;
            Line(text, $"    while holding it (the holders' {ReportFormat.Count(contended.OwnerSamples)} samples in those snapshots, innermost frame first)");
            foreach (var stack in contended.OwnerStacks)
            {
                var state = stack.State == SampleState.Unknown ? "" : stack.State.Name();
                List<string> frames = stack.Frames.Count == 0 ? ["(no frames)"] : stack.Frames.Select(TerminalText.Clean).ToList();
                Line(text, $"              {Share(stack.Share),6}  {state,-9}  {frames[0]}");
                foreach (var frame in frames.Skip(1)) Line(text, $"                      {"",-9}  {frame}");
            }
        }
    }

    /// <summary>"    taken at   71.4%  App.Orders.Place (...)", the label on the first row only.</summary>
    static void Rows(StringBuilder text, string label, IEnumerable<(double Share, string Text)> rows)
    {
        var first = true;
        foreach (var (share, row) in rows)
        {
            Line(text, $"    {(first ? label : ""),-8}  {Share(share),6}  {row}");
            first = false;
        }
    }

    // '\n' explicitly, as the text report: the same bytes on every OS.
    static void Line(StringBuilder text, string line) => text.Append(line).Append('\n');
}
