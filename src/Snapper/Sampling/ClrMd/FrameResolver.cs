using Microsoft.Diagnostics.Runtime;
using Snapper.Store;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Turns raw frames into <see cref="FrameInfo"/>. Names are cached by MethodDesc (building them costs far more than
/// the walk), so a steady-state sample allocates no strings. Call only while the ClrMD objects are valid, i.e.
/// before the next FlushCachedData.
/// </summary>
/// <param name="hostPathOf">Maps a module path as the target sees it to one Snapper can open.</param>
/// <param name="nativeNames">Names unwound native frames; null when native unwinding is off.</param>
/// <param name="leafNames">Names the code a thread is in when its frames end in one that tells nothing; null to leave such
/// stacks as they are (the reference engine, which reads no registers).</param>
sealed class FrameResolver(Func<string, string> hostPathOf, Unwind.NativeFrameNames? nativeNames = null, Unwind.LeafNames? leafNames = null) : IDisposable
{
    readonly Dictionary<ulong, FrameInfo> _managed = new();
    readonly Dictionary<(ulong MethodDesc, int ILOffset), FrameInfo> _lines = new();
    readonly SourceLines _sourceLines = new(hostPathOf);
    readonly Dictionary<(string Name, ulong MethodDesc), FrameInfo> _runtime = new();
    readonly PInvokeNames _pinvokes = new(hostPathOf);

    readonly Dictionary<string, FrameInfo> _native = new(StringComparer.Ordinal);

    /// <summary>The runtime frames made so far under which the native function a thread is in says more (see
    /// RuntimeFrameNames.NativeLeafSaysMore).</summary>
    readonly HashSet<FrameInfo> _nativeLeafSaysMore = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Grows when a module is found to have a PDB. A walk reads IL offsets only for frames that can have lines, so a
    /// stack walked before its module's PDB was found has no lines, and reusing it would keep it so for as long as the
    /// thread stays put (SNAPPER_VERIFY_REUSE found every blocked thread of a capture without its outer lines).
    /// </summary>
    public int LinesGeneration => _sourceLines.PdbsFound;

    public IReadOnlyList<FrameInfo> Resolve(RawThread thread)
    {
        ProbeModulesNamedWhileStopped(); // after the resume: the PDB lookups of methods named during the stop
        var frames = Resolve(thread.Frames);
        // The real native frames, when they could be unwound, take the place of the placeholder below: on top of
        // the managed stack (and of the transition frame of a P/Invoke in progress), or around the runtime frames
        // of a thread that is in native code from its start.
        if (thread.NativeFrames is { } unwound && nativeNames is not null)
        {
            var (nativeFrames, cfas) = nativeNames.OutermostFirst(unwound);
            var addresses = new ulong[thread.Frames.Length];
            for (var i = 0; i < addresses.Length; i++) addresses[i] = thread.Frames[addresses.Length - 1 - i].StackPointer;
            return Unwind.StackSplice.Merge(frames, addresses, nativeFrames, cfas);
        }
        // A leaf that would say nothing (a P/Invoke with no known target, a runtime thread's bare entry frame, native
        // code known only by its library) gets the name of the code the thread is in.
        if (thread.LeafAddress != 0 && leafNames is not null && (thread.NativeLeafModule is not null || frames.Count == 0 || _nativeLeafSaysMore.Contains(frames[^1]))
            && leafNames.NameOf(thread.LeafAddress, recoveredFromBelow: thread.NativeLeafModule is not null) is { } leaf)
            return [.. frames, leaf];
        if (thread.NativeLeafModule is not { } module) return frames;
        // The thread was in native code called from its innermost managed frame: say so on top of the stack. Code in no
        // library file (a "memfd:doublemapper" mapping under W^X, or anonymous memory) is code the runtime generated.
        if (!_native.TryGetValue(module, out var native))
            _native[module] = native = Linux.ExecutableRegions.IsGeneratedCode(module)
                ? Unwind.LeafNames.GeneratedCode
                : new FrameInfo(FrameKind.Native, module, "", $"[native code in {module}]");
        return [.. frames, native];
    }

    IReadOnlyList<FrameInfo> Resolve(RawFrame[] innermostFirst)
    {
        var result = new FrameInfo[innermostFirst.Length];
        for (var i = 0; i < innermostFirst.Length; i++)
        {
            var frame = innermostFirst[i];
            // Reverse into outermost-first order, the order of the stack prefix tree.
            result[innermostFirst.Length - 1 - i] = frame.Kind == ClrStackFrameKind.ManagedMethod && frame.Method is not null
                ? Managed(frame.Method, frame.ILOffset)
                : Runtime(frame, NextManaged(innermostFirst, i + 1));
        }
        return result;
    }

    /// <summary>
    /// The method with its source line, when its module has a PDB: the PDB's last visible sequence point at or before
    /// the frame's IL offset. Cached by offset, so a steady state opens no PDB.
    /// </summary>
    FrameInfo Managed(ClrMethod method, int ilOffset)
    {
        var plain = Managed(method);
        if (ilOffset < 0 || method.MethodDesc == 0) return plain;
        if (_lines.TryGetValue((method.MethodDesc, ilOffset), out var cached)) return cached;
        var line = _sourceLines.Find(method.Type?.Module?.Name, method.MetadataToken, ilOffset);
        var info = line is { } found ? plain with { File = found.File, Line = found.Line } : plain;
        _lines[(method.MethodDesc, ilOffset)] = info;
        return info;
    }

    /// <summary>
    /// Whether a frame of this method can have a source line: a real method definition of a module with a PDB. False
    /// for dynamic methods, IL stubs and modules without a PDB (all of the framework here), null while the module's
    /// PDB has not been looked for. Only for these does the DAC get asked for the method's IL map (see ILOffsets).
    /// </summary>
    public bool? MayHaveLines(ClrMethod method)
    {
        if ((method.MetadataToken >> 24) != 0x06 || (method.MetadataToken & 0xFFFFFF) == 0) return false;
        return method.Type?.Module?.Name is { } module ? _sourceLines.HasPdb(module) : false;
    }

    FrameInfo Managed(ClrMethod method)
    {
        if (_managed.TryGetValue(method.MethodDesc, out var cached)) return cached;
        var (info, module) = Name(method);
        // The first sight of a method: look for its module's PDB now, after the resume, so that from the next walk on
        // its frames can be given lines (see MayHaveLines). Once per method, off the per-frame path.
        _sourceLines.Probe(module);
        return info;
    }

    (FrameInfo Info, string? Module) Name(ClrMethod method)
    {
        var type = method.Type;
        var module = type?.Module;
        var moduleName = Path.GetFileName(module?.Name ?? module?.AssemblyName ?? "");
        var info = new FrameInfo(FrameKind.Managed, moduleName, type?.Name ?? "", method.Name ?? $"<method 0x{method.MethodDesc:x}>");
        if (method.MethodDesc != 0) _managed[method.MethodDesc] = info;
        return (info, module?.Name);
    }

    readonly List<string?> _modulesToProbe = [];

    /// <summary>
    /// Names, while the threads are still stopped, the methods of these walks not named before (the rest of the naming
    /// waits for the resume). The DAC reads a method's type from the target: with the target running, a type's data
    /// changing under the read crashed it (SOSDac.GetMethodTableName, a null read in libmscordaccore.so, about one
    /// capture of `dotnet build` in eight, on a PrestubMethodFrame's method). Only first sights cost anything here.
    /// </summary>
    public void NameWhileStopped(List<RawThread> walked)
    {
        foreach (var thread in walked)
            foreach (var frame in thread.Frames)
                if (Unnamed(frame) is { } method)
                    _modulesToProbe.Add(Name(method).Module); // its PDB is looked for after the resume, by Resolve
    }

    /// <summary>Whether every method of the walk was named before (naming it now would need the DAC).</summary>
    public bool AllNamed(RawThread walked)
    {
        foreach (var frame in walked.Frames)
            if (Unnamed(frame) is not null) return false;
        return true;
    }

    /// <summary>The frame's method when it has one not named yet.</summary>
    ClrMethod? Unnamed(RawFrame frame) =>
        frame.Method is { MethodDesc: not 0 } method && !_managed.ContainsKey(method.MethodDesc) ? method : null;

    void ProbeModulesNamedWhileStopped()
    {
        if (_modulesToProbe.Count == 0) return;
        foreach (var module in _modulesToProbe) _sourceLines.Probe(module);
        _modulesToProbe.Clear();
    }

    /// <summary>
    /// A runtime (transition) frame. An InlinedCallFrame stands for a P/Invoke in progress: name it for the native
    /// function it calls. ClrMD gives the method for a user [DllImport]; for BCL and R2R code it does not, and the
    /// caller (the next managed frame) is the P/Invoke or its generated wrapper.
    /// </summary>
    FrameInfo Runtime(RawFrame frame, ClrMethod? caller)
    {
        var name = frame.FrameName ?? "Unknown";
        var target = frame.Method ?? (name == "InlinedCallFrame" ? caller : null);
        var key = (name, target?.MethodDesc ?? 0);
        if (_runtime.TryGetValue(key, out var cached)) return cached;
        FrameInfo info;
        if (name == "InlinedCallFrame" && target is not null && _pinvokes.TryGetImport(target) is { } import)
            info = new FrameInfo(FrameKind.Transition, import.Library, "", import.Library + "!" + import.EntryPoint);
        else
        {
            info = new FrameInfo(FrameKind.Transition, "", "", RuntimeFrameNames.Describe(name, frame.Method is { } method ? Managed(method).DisplayName : null));
            if (RuntimeFrameNames.NativeLeafSaysMore(name)) _nativeLeafSaysMore.Add(info);
        }
        _runtime[key] = info;
        return info;
    }

    static ClrMethod? NextManaged(RawFrame[] frames, int start)
    {
        for (var i = start; i < frames.Length; i++)
            if (frames[i].Kind == ClrStackFrameKind.ManagedMethod) return frames[i].Method;
        return null;
    }

    public void Dispose()
    {
        _pinvokes.Dispose();
        _sourceLines.Dispose();
    }
}
