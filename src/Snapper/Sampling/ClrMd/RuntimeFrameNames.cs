namespace Snapper.Sampling.ClrMd;

/// <summary>
/// What the runtime's explicit frames stand for, in words: "[DynamicHelperFrame]" alone tells a reader nothing.
/// The frame's type name stays first (it is what SOS, ClrMD and the runtime's sources call it), then what the
/// runtime is doing there and, when the frame names one, for which method. Types not listed keep their bare name.
/// </summary>
static class RuntimeFrameNames
{
    static readonly Dictionary<string, string> Meanings = new(StringComparer.Ordinal)
    {
        ["DebuggerU2MCatchHandlerFrame"] = "thread entered from native code",
        ["UMThkCallFrame"] = "call from native code (reverse P/Invoke)",
        ["PrestubMethodFrame"] = "method being prepared (JIT-compiled or fixed up)",
        ["StubDispatchFrame"] = "interface or virtual call being resolved",
        ["ExternalMethodFrame"] = "call into another module being resolved (ReadyToRun fixup)",
        ["CallCountingHelperFrame"] = "call counted for tiered compilation",
        ["DynamicHelperFrame"] = "runtime helper (generic dictionary lookup)",
        ["HelperMethodFrame"] = "runtime helper called from managed code",
        ["HelperMethodFrame_1OBJ"] = "runtime helper called from managed code",
        ["HelperMethodFrame_2OBJ"] = "runtime helper called from managed code",
        ["HelperMethodFrame_3OBJ"] = "runtime helper called from managed code",
        ["HelperMethodFrame_PROTECTOBJ"] = "runtime helper called from managed code",
        ["ProtectByRefsFrame"] = "runtime helper called from managed code",
        ["ProtectValueClassFrame"] = "runtime helper called from managed code",
        ["SoftwareExceptionFrame"] = "exception being thrown",
        ["FaultingExceptionFrame"] = "hardware exception being dispatched (null reference, division by zero)",
        ["ExceptionFilterFrame"] = "exception filter running",
        ["HijackFrame"] = "stopped for a garbage collection (return address hijacked)",
        ["ResumableFrame"] = "stopped for a garbage collection (redirected)",
        ["RedirectedThreadFrame"] = "stopped for a garbage collection (redirected)",
        ["TailCallFrame"] = "tail call through the runtime's helper",
        ["FuncEvalFrame"] = "function evaluated by a debugger",
        ["DebuggerClassInitMarkFrame"] = "static constructor run for a debugger",
        ["DebuggerExitFrame"] = "returning to a debugger",
        ["ComMethodFrame"] = "call from COM",
        ["CLRToCOMMethodFrame"] = "call to COM",
    };

    /// <summary>
    /// Frames that, as a stack's innermost, say nothing of the work the thread is doing: the entry from native code of
    /// a thread (a runtime thread in its own code shows nothing else), a P/Invoke whose target is not known, a helper
    /// call. Frames that say what the runtime does (preparing method M, resolving a call, a GC) are not among them.
    /// </summary>
    static readonly HashSet<string> Opaque = new(StringComparer.Ordinal)
    {
        "DebuggerU2MCatchHandlerFrame", "UMThkCallFrame", "InlinedCallFrame", "Unknown",
        "HelperMethodFrame", "HelperMethodFrame_1OBJ", "HelperMethodFrame_2OBJ", "HelperMethodFrame_3OBJ",
        "HelperMethodFrame_PROTECTOBJ", "ProtectByRefsFrame", "ProtectValueClassFrame",
    };

    /// <summary>Whether a frame of this type, innermost, leaves the reader asking what the thread is doing.</summary>
    public static bool IsOpaque(string frameType) => Opaque.Contains(frameType) || !Meanings.ContainsKey(frameType);

    /// <summary>
    /// Frames that say why the runtime was entered (a call or a generic handle being resolved), not what it does there:
    /// resolving can load types and compile methods. Innermost, they held 16% of a `dotnet build`'s CPU time as self
    /// time ("generic dictionary lookup"), so the native function the thread is in goes on top of them, as it does on
    /// top of an opaque frame. A prestub frame names the method being prepared, and stays the leaf.
    /// </summary>
    static readonly HashSet<string> EnteredFor = new(StringComparer.Ordinal)
    {
        "DynamicHelperFrame", "ExternalMethodFrame", "StubDispatchFrame", "CallCountingHelperFrame",
    };

    /// <summary>Whether the native function a thread is in says more than a frame of this type, innermost.</summary>
    public static bool NativeLeafSaysMore(string frameType) => IsOpaque(frameType) || EnteredFor.Contains(frameType);

    /// <summary>Every frame type named here (checked against the runtime's own list by RuntimeAssumptionsTests).</summary>
    internal static IEnumerable<string> Named => Meanings.Keys.Concat(Opaque).Concat(EnteredFor).Distinct();

    /// <param name="frameType">The frame's type, as ClrMD names it.</param>
    /// <param name="method">The method the frame names, if any (for example the one a prestub prepares).</param>
    public static string Describe(string frameType, string? method)
    {
        if (!Meanings.TryGetValue(frameType, out var meaning)) return method is null ? $"[{frameType}]" : $"[{frameType}: {method}]";
        return method is null ? $"[{frameType}: {meaning}]" : $"[{frameType}: {meaning}: {method}]";
    }
}
