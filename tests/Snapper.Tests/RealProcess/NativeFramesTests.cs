using System.Diagnostics;
using Snapper.Store;
using Snapper.Tests.Infrastructure;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// <c>sample --native</c>: the native frames above the managed stack, unwound by Snapper's own unwinder and
/// named from the libraries' symbols; and the fallback to the frames a capture has without it.
/// </summary>
public sealed class NativeFramesTests
{
    // glibc versions differ in which of these a sleep ends in, and in which alias of recvmsg is exported first.
    internal static readonly string[] SleepFunctions = ["libc.so.6!clock_nanosleep", "libc.so.6!__clock_nanosleep", "libc.so.6!nanosleep", "libc.so.6!__nanosleep"];
    internal static readonly string[] ReceiveFunctions = ["libc.so.6!recvmsg", "libc.so.6!__recvmsg", "libc.so.6!__libc_recvmsg"];

    [Fact]
    public void Threads_blocked_in_a_PInvoke_and_a_socket_read_show_the_libc_frames_above_their_transition()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("states");
        var db = dir.File("s.db");

        // 60 samples of threads that stay blocked: most are reused stacks (the threads are not stopped again), so
        // the native frames must survive reuse for the shares below to hold.
        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "60", "--native", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(target.AnyThreadStopped(), "the target was left stopped");
        var profile = ProfileQueries.LoadLatest(db);
        AssertNativeAbove(ProfileQueries.StacksOf(profile, "Native caller"), "Snapper.TestTarget.StatePInvoker.Call", "libc!usleep",
            ["libc.so.6!usleep"], SleepFunctions);
        AssertNativeAbove(ProfileQueries.StacksOf(profile, "Socket reader"), "Snapper.TestTarget.StateSocketReader.Read",
            "libSystem.Native!SystemNative_ReceiveMessage", ["libSystem.Native.so!SystemNative_ReceiveMessage"], ReceiveFunctions);
    }

    /// <summary>
    /// In at least 90% of the samples: the managed caller, then the transition frame, then only native frames, the
    /// outermost of them one of <paramref name="outermostNative"/> and the innermost one of <paramref name="innermost"/>.
    /// </summary>
    internal static void AssertNativeAbove(List<FrameInfo[]> stacks, string caller, string transition, string[] outermostNative, string[] innermost)
    {
        var good = stacks.Count(s =>
        {
            var names = s.Select(f => f.DisplayName).ToList();
            var call = names.IndexOf(caller);
            var t = names.IndexOf(transition);
            if (call < 0 || t < call || s[t].Kind != FrameKind.Transition || t + 1 >= s.Length) return false;
            var native = s[(t + 1)..];
            return native.All(f => f.Kind == FrameKind.Native)
                && outermostNative.Contains(native[0].DisplayName)
                && innermost.Contains(native[^1].DisplayName);
        });
        Assert.True(good >= 0.9 * stacks.Count, $"{good} of {stacks.Count}; e.g. {ProfileQueries.Describe(stacks[0])}");
    }

    [Fact]
    public void Native_code_called_without_a_transition_is_unwound_instead_of_named_by_its_library()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("native-leaf");
        var db = dir.File("s.db");

        var result = SnapperCli.Run("sample", "--pid", target.Pid.ToString(), "--count", "60", "--native", "--db", db, "--no-report");

        Assert.True(result.ExitCode == 0, result.ToString());
        var stacks = ProfileQueries.StacksOf(ProfileQueries.LoadLatest(db), "NativeLeaf");
        // memset's implementation is a local symbol (absent from .dynsym): it may read as libc.so.6+0x... or by name.
        var unwound = stacks.Count(s =>
        {
            var names = s.Select(f => f.DisplayName).ToList();
            var fill = names.IndexOf("Snapper.TestTarget.NativeLeaf.Fill");
            return fill >= 0 && s[^1].Kind == FrameKind.Native && s[^1].DisplayName.StartsWith("libc.so.6", StringComparison.Ordinal)
                && !names.Any(n => n.StartsWith("[native code in", StringComparison.Ordinal));
        });
        Assert.True(unwound >= 0.8 * stacks.Count, $"{unwound} of {stacks.Count}; e.g. {ProfileQueries.Describe(stacks[0])}");
    }

    [Fact]
    public void When_no_library_can_be_unwound_the_capture_keeps_the_frames_it_has_without_native()
    {
        using var dir = new TempDirectory();
        using var target = RunningTarget.StartTestTarget("native-leaf");
        var db = dir.File("s.db");
        var info = SnapperCli.StartInfo("sample", "--pid", target.Pid.ToString(), "--count", "60", "--native", "--db", db, "--no-report");
        // As on a runtime or architecture the unwinder does not support: every library reads as having no unwind tables.
        info.Environment[Snapper.Sampling.Unwind.NativeUnwinder.SwitchVariable] = "off";
        using var snapper = Process.Start(info)!;

        var result = SnapperCli.Wait(snapper, TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(target.AnyThreadStopped(), "the target was left stopped");
        Assert.False(target.Process.HasExited);
        var profile = ProfileQueries.LoadLatest(db);
        Assert.Equal(60, profile.Session.SnapshotCount);
        Assert.Equal(0, profile.Session.FailedCount);
        var stacks = ProfileQueries.StacksOf(profile, "NativeLeaf");
        // As without --native: the one function the thread is in on top (named from libc's symbols), nothing under it.
        var leafOnly = stacks.Count(s => s[^1].Kind == FrameKind.Native && s[^1].Module == "libc.so.6");
        Assert.True(leafOnly >= 0.8 * stacks.Count, $"{leafOnly} of {stacks.Count}; e.g. {ProfileQueries.Describe(stacks[0])}");
        Assert.All(stacks, s => Assert.True(s.Count(f => f.Kind == FrameKind.Native) <= 1, ProfileQueries.Describe(s)));
    }

    [Fact]
    public void Native_frames_need_the_ptrace_engine() =>
        CliErrorTests.AssertError(SnapperCli.Run("sample", "--pid", Environment.ProcessId.ToString(), "--engine", "attach", "--native"), 2,
            "--native needs the ptrace engine");
}
