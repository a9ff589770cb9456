using Snapper.Sampling.Linux;
using Snapper.Store;

namespace Snapper.Sampling.Unwind;

/// <summary>
/// Names the code a thread was stopped in when its stack would otherwise end in a frame that says nothing of what it
/// does (issue 17): a P/Invoke whose target is not known, a runtime thread in its own native code under nothing but
/// "[DebuggerU2MCatchHandlerFrame]", native code the managed frames were recovered from below. A native library's
/// function comes from its symbols (<c>libcoreclr.so!...</c>, or <c>libcoreclr.so+0x...</c>, the start of the
/// function, where the library is stripped); code the runtime generated that is no managed method (a stub, a helper)
/// is named for the stub it is where the runtime's heaps say (<paramref name="stubAt"/>), else called that, never by the
/// mapping it lives in ("memfd:doublemapper (deleted)"). Only the leaf: the native frames under it are unwound with
/// <c>--native</c>.
/// </summary>
/// <param name="stubAt">The runtime stub at an address of generated code, when known (see ClrMd.RuntimeStubs).</param>
sealed class LeafNames(ExecutableRegions regions, NativeModules modules, NativeFrameNames names, Func<ulong, FrameInfo?> stubAt)
{
    public static readonly FrameInfo GeneratedCode = new(FrameKind.Native, "", "", "[runtime-generated code: a stub or helper]");

    /// <param name="pc">The thread's instruction pointer.</param>
    /// <param name="recoveredFromBelow">The managed frames were found under the code at <paramref name="pc"/>, which
    /// no managed method holds (see NativeLeafRecovery); only then is executable memory outside a library generated code.</param>
    public FrameInfo? NameOf(ulong pc, bool recoveredFromBelow)
    {
        if (pc == 0) return null;
        if (regions.InNativeLibrary(pc))
            return modules.ModuleAt(pc) is { } mapped ? names.Name(new NativeFrame(mapped.Module, pc - mapped.Bias, 0))
                : regions.ModuleOf(pc) is { } kernelPages ? new FrameInfo(FrameKind.Native, kernelPages, "", kernelPages) : null; // [vdso]: no file to read symbols from
        return recoveredFromBelow && regions.MayBeManagedCode(pc) ? stubAt(pc) ?? GeneratedCode : null;
    }
}
