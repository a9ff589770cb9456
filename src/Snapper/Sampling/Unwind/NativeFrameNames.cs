using Snapper.Store;

namespace Snapper.Sampling.Unwind;

/// <summary>
/// Names native frames after the resume: <c>libc.so.6!pthread_cond_wait</c> from the library's symbol tables, or
/// <c>libcoreclr.so+0x1234</c> when no symbol covers the address, as in a stripped library: the file virtual address
/// where the function starts (from its unwind entry; the address itself when there is none), so the samples of
/// one function add up in one frame, and the number is the one objdump or addr2line take. Names are cached per
/// address, so a steady state builds no strings.
/// </summary>
sealed class NativeFrameNames
{
    const int MaxCached = 65536;

    /// <summary>Stands between the managed frames and native ones when the unwind stopped before reaching managed code.</summary>
    public static readonly FrameInfo Gap = new(FrameKind.Native, "", "", "[native frames not unwound]");

    readonly Dictionary<(ElfModule, ulong), FrameInfo> _names = new();

    /// <summary>
    /// The frames of <paramref name="stack"/> outermost first, the order of every stored stack, with the CFA of each
    /// (the gap, when there is one, shares the outermost frame's).
    /// </summary>
    public (FrameInfo[] Frames, ulong[] Cfas) OutermostFirst(NativeStack stack)
    {
        var frames = stack.InnermostFirst;
        var gap = stack.Complete ? 0 : 1;
        var names = new FrameInfo[frames.Length + gap];
        var cfas = new ulong[frames.Length + gap];
        if (gap == 1)
        {
            names[0] = Gap;
            cfas[0] = frames[^1].Cfa;
        }
        for (var i = 0; i < frames.Length; i++)
        {
            names[gap + frames.Length - 1 - i] = Name(frames[i]);
            cfas[gap + frames.Length - 1 - i] = frames[i].Cfa;
        }
        return (names, cfas);
    }

    public FrameInfo Name(NativeFrame frame)
    {
        var key = (frame.Module, frame.Address);
        if (_names.TryGetValue(key, out var cached)) return cached;
        var module = frame.Module.Name;
        var function = frame.Module.FunctionAt(frame.Address);
        var info = new FrameInfo(FrameKind.Native, module, "",
            function is null ? $"{module}+0x{frame.Module.FunctionStartOf(frame.Address) ?? frame.Address:x}" : $"{module}!{function}");
        if (_names.Count >= MaxCached) _names.Clear();
        _names[key] = info;
        return info;
    }
}
