using System.Threading.Channels;
using Snapper.Sampling;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.Unit;

/// <summary>sample --focus at the writer: only matching thread samples are stored, counted, and the count stops the capture.</summary>
public sealed class FocusWriterTests
{
    static readonly SessionTarget Target = new(42, "shop", "dotnet shop.dll", "10.0.12", "host", "ptrace", 100, 256, "snapper sample --pid 42 --focus Checkout");
    static readonly FrameInfo Start = new(FrameKind.Managed, "System.Private.CoreLib.dll", "System.Threading.Thread", "StartCallback");
    static readonly FrameInfo Checkout = new(FrameKind.Managed, "Shop.dll", "Shop.OrdersController+<Checkout>d__4", "MoveNext");
    static readonly FrameInfo Search = new(FrameKind.Managed, "Shop.dll", "Shop.OrdersController", "Search");

    static TimedSnapshot Snapshot(int sequence, params FrameInfo[][] stacks) => new(sequence, sequence * 10_000L, false,
        new CapturedSnapshot(0, TimeSpan.FromMicroseconds(300),
            stacks.Select((frames, i) => new ThreadStack(100 + i, new ThreadIdentity(i + 1, $"worker {i}", null, "thread pool worker"), frames)
            {
                Activity = SampleActivity.ManagedCode,
            }).ToList()));

    [Fact]
    public void Only_matching_samples_are_stored_and_the_count_stops_at_its_limit()
    {
        using var dir = new TempDirectory();
        using var db = SnapperDatabase.Open(dir.File("f.db"));
        var focus = FocusPattern.TryParse("OrdersController.Checkout", out _)!;
        var reached = 0;
        long sessionId;
        using (var writer = SessionWriter.Begin(db, Target, DateTime.UtcNow))
        {
            sessionId = writer.SessionId;
            var channel = Channel.CreateUnbounded<TimedSnapshot>();
            // Three threads a snapshot, one of them in Checkout (async, matched by its written name); the limit of 3
            // is reached in the third snapshot, and the fourth, already in flight, is dropped whole.
            for (var seq = 0; seq < 4; seq++)
                channel.Writer.TryWrite(Snapshot(seq, [Start, Search], [Start, Checkout], [Start]));
            channel.Writer.Complete();
            new SnapshotWriter(writer, SyscallNames.CurrentArchitecture, focus: focus, focusCount: 3) { FocusCountReached = () => reached++ }
                .Run(channel.Reader);
            writer.End(SessionEndReason.FocusCountReached, null, DateTime.UtcNow, 0);
        }

        Assert.Equal(1, reached);
        var session = SessionQueries.Find(db, sessionId)!;
        // Seen: three threads in each of the first two snapshots, then two in the third: the limit is reached at its
        // second thread and nothing after it is looked at.
        Assert.Equal(new FocusCounts("OrdersController.Checkout", 8, 3), session.Focus);
        Assert.Equal(3, session.SnapshotCount);
        var profile = ProfileReader.Load(db, session);
        Assert.Equal(3, profile.Samples.Count);
        Assert.All(profile.Samples, s => Assert.Contains(profile.FramesOf(s.StackId), id => profile.Frames[id] == Checkout));
    }
}
