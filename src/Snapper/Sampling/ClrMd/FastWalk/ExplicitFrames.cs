using System.Buffers.Binary;
using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd.FastWalk;

/// <summary>
/// The runtime's explicit frames (Frame objects on the stack, chained from the Thread), as far as the fast walk can
/// read them. Nothing about their layout is assumed from a runtime version: it is learned from the DAC's own walks of
/// the same process (the first samples, and any thread the fast walk gives up on), and only what was learned is used:
/// where the Thread keeps its innermost Frame, which word at a Frame's start means which frame type, where an
/// InlinedCallFrame keeps its caller's return address and stack pointer, which method each P/Invoke frame names, and
/// how each other type of frame leads back to managed code (<see cref="TransitionLayout"/>). A Frame of a type not
/// learned sends the thread to the DAC, which teaches it.
/// </summary>
sealed class ExplicitFrames
{
    public const ulong Top = ulong.MaxValue; // FRAME_TOP: the end of a thread's chain
    const int NextOffset = 8; // Frame::m_pNext, after the vtable pointer (8, 9) or frame identifier (10)
    const int DatumOffset = 16; // InlinedCallFrame::m_Datum, the first field after Frame's
    public const int ThreadScanBytes = 0x200; // where in a Thread its innermost Frame is looked for
    const int FrameScanBytes = 0x60;
    const string InlinedCall = "InlinedCallFrame";

    /// <summary>Frames that neither hold a context nor name a method: the walk reports them and goes on.</summary>
    static readonly HashSet<string> Markers = new(StringComparer.Ordinal) { "DebuggerU2MCatchHandlerFrame" };

    readonly Dictionary<ulong, string> _kinds = new();
    readonly Dictionary<string, TransitionLayout> _transitions = new(StringComparer.Ordinal);
    readonly Dictionary<ulong, ClrMethod?> _pInvokeTargets = new();
    readonly Dictionary<ulong, ClrMethod> _methodsByDesc = new();
    readonly LayoutVotes<int> _threadFrameOffset = new();
    readonly LayoutVotes<int> _returnOffset = new();
    readonly LayoutVotes<int> _callSiteSpOffset = new();

    public enum Kind { Unknown, InlinedCall, Marker, Transition }

    /// <summary>The kind and name of the Frame at <paramref name="address"/>.</summary>
    public (Kind Kind, string? Name) Classify(ulong address, IWalkMemory memory)
    {
        if (!memory.TryReadPointer(address, out var id) || !_kinds.TryGetValue(id, out var name)) return (Kind.Unknown, null);
        if (name == InlinedCall) return (_returnOffset.IsLearned && _callSiteSpOffset.IsLearned ? Kind.InlinedCall : Kind.Unknown, name);
        if (Markers.Contains(name)) return (Kind.Marker, name);
        return (_transitions.TryGetValue(name, out var layout) && layout.IsLearned ? Kind.Transition : Kind.Unknown, name);
    }

    /// <summary>Where the call a transition frame (a stub's or helper's) stands for returns to, and the method it names.</summary>
    public (UnwindContext Caller, bool Interrupted, ClrMethod? Method)? TransitionOf(ulong frame, string name, IWalkMemory memory) =>
        _transitions.TryGetValue(name, out var layout) ? layout.Read(frame, memory, _methodsByDesc) : null;

    /// <summary>Where the Thread object at <paramref name="thread"/> keeps its innermost Frame, once learned.</summary>
    public bool TryHeadAddress(ulong thread, out ulong address)
    {
        address = _threadFrameOffset.Learned(out var offset) ? thread + (ulong)offset : 0;
        return address != 0;
    }

    /// <summary>The innermost Frame of the thread whose Thread object is at <paramref name="thread"/>.</summary>
    public bool TryHead(ulong thread, IWalkMemory memory, out ulong head)
    {
        head = 0;
        return _threadFrameOffset.Learned(out var offset) && memory.TryReadPointer(thread + (ulong)offset, out head) && head != 0;
    }

    public static bool TryNext(ulong frame, IWalkMemory memory, out ulong next) => memory.TryReadPointer(frame + NextOffset, out next) && next != 0;

    /// <summary>
    /// Where the call an InlinedCallFrame stands for returns to: the managed caller's context. Null when the frame is
    /// not active (no call in progress) or the method it names is not known.
    /// </summary>
    public (UnwindContext Caller, ClrMethod? Target)? InlinedCallOf(ulong frame, IWalkMemory memory)
    {
        if (!_returnOffset.Learned(out var returnAt) || !_callSiteSpOffset.Learned(out var spAt)) return null;
        if (!memory.TryReadPointer(frame + (ulong)returnAt, out var returnAddress) || returnAddress == 0) return null;
        if (!memory.TryReadPointer(frame + (ulong)spAt, out var sp)) return null;
        // The caller's frame pointer, saved by the call sequence, follows the return address (InlinedCallFrame's field order).
        if (!memory.TryReadPointer(frame + (ulong)returnAt + 8, out var fp)) return null;
        if (!memory.TryReadPointer(frame + DatumOffset, out var datum) || !_pInvokeTargets.TryGetValue(datum, out var target)) return null;
        return (new UnwindContext(returnAddress, sp, fp), target);
    }

    /// <summary>
    /// An InlinedCallFrame linked into the chain with no call in progress: its return address is cleared (the runtime's
    /// InlinedCallFrame::FrameHasActiveCall), as it is before the stub's call and after it returns.
    /// </summary>
    public bool IsInactive(ulong frame, IWalkMemory memory) =>
        _returnOffset.Learned(out var returnAt) && memory.TryReadPointer(frame + (ulong)returnAt, out var returnAddress) && returnAddress == 0;

    /// <summary>Learns from one thread's DAC walk, read while the thread is still stopped.</summary>
    public void Learn(ulong thread, IReadOnlyList<RawFrame> frames, IWalkMemory memory)
    {
        var first = true;
        for (var i = 0; i < frames.Count; i++)
        {
            var frame = frames[i];
            if (frame.Kind == ClrStackFrameKind.ManagedMethod || frame.StackPointer == 0 || frame.FrameName is null) continue;
            if (first)
            {
                first = false;
                _threadFrameOffset.Observe(PlacesOf(thread, ThreadScanBytes, frame.StackPointer, memory));
            }
            if (!memory.TryReadPointer(frame.StackPointer, out var id)) continue;
            _kinds.TryAdd(id, frame.FrameName);
            if (frame.Method is { MethodDesc: not 0 } named) _methodsByDesc.TryAdd(named.MethodDesc, named);
            if (Markers.Contains(frame.FrameName)) continue;
            // Only a frame directly followed by a managed frame shows where its context leads.
            var next = i + 1 < frames.Count && frames[i + 1] is { Kind: ClrStackFrameKind.ManagedMethod, Method: not null } caller ? caller : (RawFrame?)null;
            if (frame.FrameName != InlinedCall)
            {
                if (next is not { } transitionCaller) continue;
                if (!_transitions.TryGetValue(frame.FrameName, out var layout)) _transitions[frame.FrameName] = layout = new TransitionLayout();
                layout.Learn(frame.StackPointer, frame.Method, transitionCaller, memory);
                continue;
            }
            if (next is not { } pInvokeCaller) continue;
            _returnOffset.Observe(PlacesOf(frame.StackPointer, FrameScanBytes, pInvokeCaller.InstructionPointer, memory).Where(o => o > DatumOffset));
            _callSiteSpOffset.Observe(PlacesOf(frame.StackPointer, FrameScanBytes, pInvokeCaller.StackPointer, memory).Where(o => o > DatumOffset));
            if (memory.TryReadPointer(frame.StackPointer + DatumOffset, out var datum)) _pInvokeTargets[datum] = frame.Method;
        }
    }

    /// <summary>The offsets (from <paramref name="from"/>, 8-aligned) where <paramref name="value"/> is found.</summary>
    static List<int> PlacesOf(ulong from, int bytes, ulong value, IWalkMemory memory)
    {
        Span<byte> words = stackalloc byte[bytes];
        var read = memory.Read(from, words);
        var found = new List<int>();
        for (var o = 0; o + 8 <= read; o += 8)
            if (BinaryPrimitives.ReadUInt64LittleEndian(words[o..]) == value) found.Add(o);
        return found;
    }
}
