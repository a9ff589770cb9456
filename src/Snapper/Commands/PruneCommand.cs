using System.CommandLine;
using Snapper.Cli;
using Snapper.Store;

namespace Snapper.Commands;

/// <summary><c>snapper prune</c>: delete old sessions and reclaim the space.</summary>
public static class PruneCommand
{
    static readonly Option<string> Db = CommonOptions.Database();
    static readonly Option<TimeSpan?> OlderThan = CommonOptions.Duration("--older-than", "Delete sessions started longer ago than this.");
    static readonly Option<long?> MaxSize = new("--max-size")
    {
        Description = "Delete the oldest sessions until the database fits in this size. Written as " + SizeParser.Help + ".",
        HelpName = "size",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (SizeParser.TryParse(text, out var bytes)) return bytes;
            result.AddError($"--max-size '{text}' is not a size: use {SizeParser.Help}");
            return null;
        },
    };
    static readonly Option<bool> DryRun = new("--dry-run") { Description = "Say what would be deleted, delete nothing." };
    static readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Print nothing but errors (for cron)." };

    public static Command Create()
    {
        var command = new Command("prune", """
            Delete whole sessions, oldest first, by age and/or to fit a size, then the stacks no remaining session
            uses, and compact the file. A capture that is running is never touched, whatever process prunes (each
            capture holds a lock in the <db>-snapper.lock file beside the store), and while one runs the file is not
            compacted: the freed space is reused instead.

            Examples:
              snapper prune --older-than 14d
              snapper prune --max-size 500MB --db /var/lib/snapper/app.db
              snapper prune --older-than 7d --dry-run
            """)
        { Db, OlderThan, MaxSize, DryRun, Quiet };
        command.SetAction(result => CommandRunner.Run(() => Execute(result)));
        return command;
    }

    static int Execute(ParseResult result)
    {
        var olderThan = result.GetValue(OlderThan);
        var maxSize = result.GetValue(MaxSize);
        if (olderThan is null && maxSize is null)
            throw new SnapperException(ExitCode.InvalidArguments, "say what to prune: --older-than <duration> and/or --max-size <size>");
        if (olderThan is { } age && age <= TimeSpan.Zero)
            throw new SnapperException(ExitCode.InvalidArguments, "--older-than must be longer than zero");
        var dryRun = result.GetValue(DryRun);
        using var db = SnapperDatabase.Open(result.GetValue(Db)!, create: false);
        var pruned = Retention.Prune(db, olderThan, maxSize, dryRun);
        if (!result.GetValue(Quiet)) Console.WriteLine(Retention.Describe(pruned, dryRun));
        return (int)ExitCode.Success;
    }
}
