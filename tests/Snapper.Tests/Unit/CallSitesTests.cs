using Snapper.Sampling.ClrMd;

namespace Snapper.Tests.Unit;

public sealed class CallSitesTests
{
    /// <summary>The eight bytes before a return address: filler, then the instruction under test at the end.</summary>
    static byte[] Before(params byte[] instruction)
    {
        var bytes = Enumerable.Repeat((byte)0x90, CallSites.LongestCall).ToArray();
        instruction.CopyTo(bytes, bytes.Length - instruction.Length);
        return bytes;
    }

    [Theory]
    [InlineData(new byte[] { 0xE8, 0x10, 0x20, 0x30, 0x40 })] // call rel32
    [InlineData(new byte[] { 0xFF, 0xD0 })] // call rax
    [InlineData(new byte[] { 0x41, 0xFF, 0xD3 })] // call r11
    [InlineData(new byte[] { 0xFF, 0x15, 0x01, 0x02, 0x03, 0x04 })] // call [rip + disp32]
    [InlineData(new byte[] { 0xFF, 0x50, 0x18 })] // call [rax + 0x18]
    [InlineData(new byte[] { 0xFF, 0x90, 0x00, 0x01, 0x00, 0x00 })] // call [rax + 0x100]
    [InlineData(new byte[] { 0xFF, 0x14, 0xC8 })] // call [rax + rcx*8]
    [InlineData(new byte[] { 0xFF, 0x54, 0x24, 0x08 })] // call [rsp + 8]
    [InlineData(new byte[] { 0x41, 0xFF, 0x94, 0xC8, 0x00, 0x01, 0x00, 0x00 })] // call [r8 + rcx*8 + 0x100]
    [InlineData(new byte[] { 0xFF, 0x14, 0x25, 0x00, 0x10, 0x00, 0x00 })] // call [disp32] through a SIB with no base
    public void A_call_ending_at_the_address_makes_it_a_return_address(byte[] call) =>
        Assert.True(CallSites.EndsWithCall(Before(call)));

    [Theory]
    [InlineData(new byte[] { 0x48, 0x89, 0xE5 })] // mov rbp, rsp: the entry of a method, not after a call
    [InlineData(new byte[] { 0xFF, 0xE0 })] // jmp rax: FF /4, no return here
    [InlineData(new byte[] { 0xFF, 0x50 })] // call [rax + disp8] cut short: the call would end a byte later
    [InlineData(new byte[] { 0xE8, 0x10, 0x20, 0x30 })] // call rel32 cut short
    [InlineData(new byte[] { 0xC3 })] // ret
    public void Anything_else_does_not(byte[] code) =>
        Assert.False(CallSites.EndsWithCall(Before(code)));
}
