using System.CommandLine;
using System.Globalization;
using Snapper.Cli;
using Snapper.Report;
using Snapper.Store;

namespace Snapper.Commands;

/// <summary><c>snapper diff</c>: what changed between captures.</summary>
public static class DiffCommand
{
    static readonly Option<string> Db = CommonOptions.Database();
    static readonly Option<string> Base = new("--base")
    {
        Description = "The session or sessions to compare against: ids separated by commas (several are merged into one profile).",
        HelpName = "ids",
        Required = true,
    };
    static readonly Option<string> Compare = new("--compare")
    {
        Description = "The session or sessions to compare with the base: ids separated by commas.",
        HelpName = "ids",
        Required = true,
    };
    static readonly Option<ReportFileFormat> Format = CommonOptions.Choice("--format",
        "html: a differential flame graph and tables. text: regressions and improvements for terminals and CI. json: every function's change.",
        ReportFileFormat.Html, "-f");
    static readonly Option<string?> Output = new("--output", "-o")
    {
        Description = "Output file, '-' for stdout. Default: stdout for text and json; for html, a file beside the database.",
        HelpName = "path",
    };
    static readonly Option<ThreadSelection?> Threads = CommonOptions.Threads("Compare only the threads whose names match.");
    static readonly Option<bool> Idle = CommonOptions.Idle();

    public static Command Create()
    {
        var command = new Command("diff", """
            Compare captures: per function, the change in self and total share of the samples (normalised by each
            side's sample count), the top regressions and improvements, and (html) a differential flame graph of the
            compared profile coloured by each frame's growth (red) or shrinkage (blue).

            Examples:
              snapper diff --base 3 --compare 7                      diff.html beside the database
              snapper diff --base 3,4,5 --compare 9,10 --format text
              snapper diff --base 1 --compare 2 --format json -o diff.json
            """)
        { Db, Base, Compare, Format, Output, Threads, Idle };
        command.SetAction(result => CommandRunner.Run(() => Execute(result)));
        return command;
    }

    static int Execute(ParseResult result)
    {
        var format = result.GetValue(Format);
        var output = result.GetValue(Output);
        if (output is not null) ReportFiles.EnsureWritable(output);
        var dbPath = result.GetValue(Db)!;
        using var db = AbandonedSessions.OpenExisting(dbPath);
        var baseSessions = ReportCommand.FindSessions(db, result.GetValue(Base)!, "--base");
        var compareSessions = ReportCommand.FindSessions(db, result.GetValue(Compare)!, "--compare");
        var options = new ReportOptions { Threads = result.GetValue(Threads), IncludeIdle = result.GetValue(Idle) };
        var diff = ProfileDiff.Compute(ProfileReader.LoadMany(db, baseSessions), ProfileReader.LoadMany(db, compareSessions), options);
        var sides = new DiffSides(Describe(baseSessions), Describe(compareSessions));
        output ??= format == ReportFileFormat.Html ? DefaultPath(dbPath, baseSessions, compareSessions) : "-";
        OutputFile.Write(output, "diff", stream => ProfileReports.WriteDiff(diff, sides,
            baseSessions.Select(s => s.Id).ToList(), compareSessions.Select(s => s.Id).ToList(), format, stream));
        if (output != "-") Console.WriteLine($"Diff: {Path.GetFullPath(output)}");
        return (int)ExitCode.Success;
    }

    static string Describe(IReadOnlyList<SessionInfo> sessions) => sessions.Count == 1
        ? "session " + sessions[0].Id.ToString(CultureInfo.InvariantCulture)
        : "sessions " + string.Join(", ", sessions.Select(s => s.Id.ToString(CultureInfo.InvariantCulture)));

    static string DefaultPath(string dbPath, IReadOnlyList<SessionInfo> before, IReadOnlyList<SessionInfo> after)
    {
        static string Ids(IReadOnlyList<SessionInfo> s) => string.Join('-', s.Select(x => x.Id.ToString(CultureInfo.InvariantCulture)));
        return OutputFile.BesideDatabase(dbPath, $"diff-{Ids(before)}-vs-{Ids(after)}", ".html");
    }
}
