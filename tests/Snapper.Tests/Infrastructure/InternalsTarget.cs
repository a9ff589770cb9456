using System.Diagnostics;

namespace Snapper.Tests.Infrastructure;

/// <summary>
/// The test target's "internals" scenario, started once for the tests that share it (they only read it, held by ClrMD
/// one at a time). Server GC, whose threads have names of their own; a tiered compilation worker and idle thread pool
/// threads kept from exiting (after 4 s and 20 s idle by default): every runtime thread the scenario starts is still
/// there, in the state it was started in, whenever a test looks.
/// </summary>
public sealed class InternalsTarget : IDisposable
{
    public InternalsTarget()
    {
        var info = new ProcessStartInfo(Dotnet.Host, [Path.Combine(AppContext.BaseDirectory, "Snapper.TestTarget.dll"), "internals"]);
        info.Environment["DOTNET_gcServer"] = "1";
        info.Environment["DOTNET_GCHeapCount"] = "2";
        info.Environment["DOTNET_TC_BackgroundWorkerTimeoutMs"] = "7FFFFFFF"; // hexadecimal, as the runtime's own settings
        info.Environment["DOTNET_ThreadPool_ThreadTimeoutMs"] = "-1"; // idle pool threads stay (else they end after 20 s)
        Target = RunningTarget.StartNotAsChild(info); // traced from this process (see there)
    }

    public RunningTarget Target { get; }

    /// <summary>The OS thread id of the target's thread with this OS name (15 characters at most); fails when not exactly one.</summary>
    public int Tid(string osName) => Assert.Single(Target.Threads(), t => t.Name == osName).Tid;

    public void Dispose() => Target.Dispose();
}
