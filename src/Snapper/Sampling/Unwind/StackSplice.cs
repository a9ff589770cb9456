using Snapper.Store;

namespace Snapper.Sampling.Unwind;

/// <summary>
/// Puts native frames among the frames the runtime's walk gave, by where each is on the stack (the stack grows
/// down: an outer frame is at a higher address). The runtime's frames keep their order (a P/Invoke's transition
/// frame lives inside its IL stub's frame yet is shown after it); each native frame goes after the last runtime
/// frame at or above its top (its CFA). So native code called by managed code lands on top of the managed stack,
/// and the runtime's own frames of a thread that started in native code (the finalizer) land inside the native
/// frames that created them. At equal addresses the runtime's frame is the outer one: a managed caller's stack
/// pointer is its native callee's CFA.
/// </summary>
static class StackSplice
{
    /// <param name="managed">The walk's frames, outermost first.</param>
    /// <param name="managedAddresses">Their stack addresses, in the same order.</param>
    /// <param name="native">The native frames, outermost first.</param>
    /// <param name="nativeAddresses">Their CFAs, in the same order (descending).</param>
    public static FrameInfo[] Merge(IReadOnlyList<FrameInfo> managed, ReadOnlySpan<ulong> managedAddresses, IReadOnlyList<FrameInfo> native,
        ReadOnlySpan<ulong> nativeAddresses)
    {
        var result = new FrameInfo[managed.Count + native.Count];
        var n = 0;
        var emitted = 0; // runtime frames already placed
        for (var i = 0; i < native.Count; i++)
        {
            // Every runtime frame up to the last one at or above this native frame is outer to it.
            var last = -1;
            for (var j = managed.Count - 1; j >= emitted; j--)
            {
                if (managedAddresses[j] < nativeAddresses[i]) continue;
                last = j;
                break;
            }
            for (; emitted <= last; emitted++) result[n++] = managed[emitted];
            result[n++] = native[i];
        }
        for (; emitted < managed.Count; emitted++) result[n++] = managed[emitted];
        return result;
    }
}
