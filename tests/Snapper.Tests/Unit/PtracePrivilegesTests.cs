using Snapper.Sampling.Linux;
using Credentials = Snapper.Sampling.Linux.PtracePrivileges.ProcessCredentials;

namespace Snapper.Tests.Unit;

/// <summary>A refused target's error names the privilege Snapper lacks and how to give it, from what the kernel says.</summary>
public sealed class PtracePrivilegesTests
{
    const ulong All = 0x1ff_ffff_ffff, WithoutPtrace = All & ~(1UL << 19);
    static readonly Credentials Root = new(0, All, 0), RootWithoutPtrace = new(0, WithoutPtrace, 0), User = new(1000, 0, 0);

    static string Explain(Credentials? self, Credentials? target, int? scope) => PtracePrivileges.Explain(42, "Orders", self, target, scope);

    [Fact]
    public void Root_without_the_capability_is_told_to_add_it() =>
        Assert.Contains("runs as root but without the CAP_SYS_PTRACE capability", Explain(RootWithoutPtrace, Root, null));

    [Fact]
    public void A_user_tracing_another_users_process_is_told_it_needs_root() =>
        Assert.Contains("ptrace needs root or CAP_SYS_PTRACE (e.g. 'sudo snapper ...'", Explain(User, Root, 1));

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    public void A_user_tracing_its_own_process_is_told_of_ptrace_scope(int scope, bool sysctlHelps)
    {
        var message = Explain(User, User, scope);
        Assert.Contains($"kernel.yama.ptrace_scope = {scope} lets a user trace only its own child processes", message);
        Assert.Equal(sysctlHelps, message.Contains("sysctl kernel.yama.ptrace_scope=0"));
    }

    [Fact]
    public void Without_Yama_a_user_tracing_its_own_process_is_told_it_needs_root() =>
        Assert.Contains("ptrace needs root or CAP_SYS_PTRACE", Explain(User, User, null));

    [Fact]
    public void Ptrace_scope_3_says_nothing_but_a_reboot_helps() =>
        Assert.Contains("kernel.yama.ptrace_scope = 3, which only a reboot lowers", Explain(Root, Root, 3));

    [Fact]
    public void A_seccomp_filter_is_named_when_the_capability_is_there() =>
        Assert.Contains("seccomp filter", Explain(Root with { SeccompMode = 2 }, Root, null));

    [Fact]
    public void With_every_privilege_a_security_module_is_the_suspect() =>
        Assert.Contains("security module (AppArmor, SELinux)", Explain(Root, Root, 0));

    [Fact]
    public void Every_message_names_the_target() =>
        Assert.StartsWith("permission denied to trace process 42 (Orders): ", Explain(null, null, null));
}
