using System.Diagnostics;

namespace Snapper.Tests.Infrastructure;

/// <summary>Runs the real <c>snapper</c> CLI as a child process, as a user would.</summary>
public static class SnapperCli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    /// <summary>
    /// The command line as given, except that a capture without <c>--max-overhead</c> gets <c>--max-overhead off</c>:
    /// tests assert what a capture finds, and a budget would lower the rate by the machine's load and the speed of
    /// the Debug build they run. The budget has tests of its own (OverheadBudgetTests), which give it or use
    /// <see cref="StartInfoAsGiven"/>.
    /// </summary>
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        if (args.Length == 0 || args[0] != "sample" || args.Contains("--max-overhead")) return StartInfoAsGiven(args);
        var end = Array.IndexOf(args, "--"); // a command to launch follows it
        return StartInfoAsGiven(end < 0 ? [.. args, "--max-overhead", "off"] : [.. args[..end], "--max-overhead", "off", .. args[end..]]);
    }

    /// <summary>The command line exactly as given.</summary>
    public static ProcessStartInfo StartInfoAsGiven(params string[] args)
    {
        var info = new ProcessStartInfo(Dotnet.Host, [Path.Combine(AppContext.BaseDirectory, "snapper.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        return info;
    }

    public static Result Run(params string[] args) => Run(TimeSpan.FromMinutes(2), args);

    public static Result Run(TimeSpan timeout, params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        return Wait(process, timeout);
    }

    public static Result Run(ProcessStartInfo info)
    {
        using var process = Process.Start(info)!;
        return Wait(process, TimeSpan.FromMinutes(2));
    }

    public static Result Wait(Process process, TimeSpan timeout)
    {
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"snapper did not finish within {timeout}: {stderr.Result}");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
