using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Snapper.Sampling;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.Unit;

/// <summary>
/// Two captures writing into one store (cron starting both in the same minute): while one stores a steady stream
/// of snapshots, the other must get the write lock quickly, every time. A writer that holds its transaction open
/// between batches leaves gaps too short for SQLite's busy handler, which sleeps between its tries, to ever hit.
/// </summary>
public sealed class SharedStoreWriterTests
{
    static readonly SessionTarget Target = new(42, "app", "dotnet app.dll", "10.0.12", "host", "ptrace", 100, 256, "snapper sample --pid 42");
    static readonly FrameInfo[] Stack = [new(FrameKind.Managed, "app.dll", "App.Program", "Main"), new(FrameKind.Managed, "app.dll", "App.Worker", "Run")];

    [Fact]
    public async Task Another_writer_gets_the_lock_within_a_drain_while_snapshots_stream_in()
    {
        using var dir = new TempDirectory();
        var path = dir.File("shared.db");
        using var db = SnapperDatabase.Open(path);
        using var writer = SessionWriter.Begin(db, Target, DateTime.UtcNow);
        var channel = Channel.CreateBounded<TimedSnapshot>(1024);
        var storing = Task.Factory.StartNew(() => new SnapshotWriter(writer, SyscallNames.CurrentArchitecture).Run(channel.Reader),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // The sampler's side: a snapshot every 5 ms for as long as the other writer keeps trying.
        using var done = new CancellationTokenSource();
        var producing = Task.Run(async () =>
        {
            for (var seq = 0; !done.IsCancellationRequested; seq++)
            {
                var thread = new ThreadStack(100, new ThreadIdentity(1, "main", "app", "main thread"), Stack) { Activity = SampleActivity.ManagedCode };
                await channel.Writer.WriteAsync(new TimedSnapshot(seq, seq * 5_000L, false, new CapturedSnapshot(0, TimeSpan.FromMicroseconds(200), [thread])));
                await Task.Delay(5);
            }
            channel.Writer.Complete();
        });

        using var other = new SqliteConnection($"Data Source={path};Pooling=False");
        other.Open();
        var waits = new List<double>();
        for (var attempt = 0; attempt < 8; attempt++)
        {
            await Task.Delay(150);
            using var begin = other.CreateCommand();
            begin.CommandText = "PRAGMA busy_timeout = 3000; BEGIN IMMEDIATE;";
            var started = Stopwatch.GetTimestamp();
            begin.ExecuteNonQuery();
            waits.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            using var rollback = other.CreateCommand();
            rollback.CommandText = "ROLLBACK;";
            rollback.ExecuteNonQuery();
        }
        done.Cancel();
        await producing;
        await storing;

        // A drain lasts a millisecond or two, and the writer holds nothing between drains (100 ms).
        Assert.True(waits.Max() < 250, "waits for the lock (ms): " + string.Join(", ", waits.Select(w => w.ToString("F0"))));
    }
}
