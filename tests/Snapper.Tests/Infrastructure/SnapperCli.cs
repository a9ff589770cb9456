using System.Diagnostics;

namespace Snapper.Tests.Infrastructure;

/// <summary>Runs the real <c>snapper</c> CLI as a child process, as a user would.</summary>
public static class SnapperCli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static ProcessStartInfo StartInfo(params string[] args)
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
