using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling;
using Snapper.Sampling.ClrMd;
using Snapper.Sampling.ClrMd.FastWalk;
using Snapper.Sampling.Linux;
using Snapper.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Snapper.Tests.RealProcess;

/// <summary>
/// Snapper's assumptions about the runtime's code and frames (docs/runtime-assumptions.md), each put to the runtime of
/// the "internals" target directly, with ClrMD holding it still: the DAC interfaces found by reflection and the vtable
/// slots called on them, the structures the DAC fills, the code header and unwind info of JIT-compiled and precompiled
/// code, the Frame layouts learned from the DAC's walks, the frame type names, and the names of executable mappings.
/// Each fails when its assumption no longer holds, where Snapper itself would fall back or read wrong.
/// </summary>
[Collection(InternalsCollection.Name)]
public sealed unsafe class RuntimeAssumptionsTests(InternalsTarget internals, ITestOutputHelper output)
{
    // The interfaces' IIDs (sospriv.idl, xclrdata.idl).
    static readonly Guid ISOSDacInterface = new("436f00f2-b42a-4b9f-870c-e73db66ae930");
    static readonly Guid IXCLRDataProcess = new("5c552ab6-fc09-4cb3-8e36-22fa03c798b7");

    [Fact]
    public void The_runtime_is_read_through_the_DAC_beside_it_and_its_binary_names_its_version()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var process = TargetProcess.Inspect(internals.Target.Pid);
        var directory = Path.GetDirectoryName(process.RuntimeLibrary)!;
        Assert.True(File.Exists(Path.Combine(directory, "libmscordaccore.so")), directory);
        // The tests run on the target's runtime (the same dotnet host).
        Assert.Equal(Environment.Version.ToString(), process.ReadRuntimeVersion());
    }

    /// <summary>
    /// DacInterfaces finds, by the names of ClrMD's internal wrapper classes, the very interface pointers whose vtable
    /// slots Snapper counts: asked for its own interface, each answers with itself.
    /// </summary>
    [Fact]
    public void ClrMDs_DAC_interfaces_are_found_by_reflection_and_are_the_interfaces_the_slots_are_counted_on()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var sos = DacInterfaces.Find(attached.Runtime, "SOSDac");
        var process = DacInterfaces.Find(attached.Runtime, "ClrDataProcess");
        Assert.True(sos is not (null or 0), "no SOSDac wrapper, or no Self, in ClrMD's runtime objects");
        Assert.True(process is not (null or 0), "no ClrDataProcess wrapper, or no Self, in ClrMD's runtime objects");
        Assert.Equal(sos.Value, QueryInterface(sos.Value, ISOSDacInterface));
        Assert.Equal(process.Value, QueryInterface(process.Value, IXCLRDataProcess));
    }

    /// <summary>
    /// SosCodeHeaders (GetCodeHeaderData, and GetMethodDescPtrFromIP with GetMethodDescData for published code): a
    /// JIT-compiled method's code and a precompiled one's are found with their own MethodDesc, kind and extent; native
    /// code is not managed code.
    /// </summary>
    [Fact]
    public void The_code_header_names_the_method_kind_and_extent_of_JIT_compiled_and_precompiled_code()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var sos = SosCodeHeaders.TryCreate(attached.Runtime) ?? throw new InvalidOperationException("no SOSDac interface");
        foreach (var (frame, kind) in new[] { (SpinnerLeaf(attached), CodeHeader.Jitted), (PrecompiledFrame(attached), CodeHeader.ReadyToRun) })
        {
            var header = sos.Find(frame.InstructionPointer);
            Assert.True(header is not null, $"no code header for {frame.Method!.Name} at {frame.InstructionPointer:x}");
            Assert.Equal(frame.Method!.MethodDesc, header.Value.MethodDesc);
            Assert.Equal(kind, header.Value.Kind);
            Assert.InRange(frame.InstructionPointer, header.Value.Start, header.Value.Start + header.Value.Size - 1);
            Assert.Equal(frame.Method.HotColdInfo.HotStart, header.Value.Start);
            // What is asked first about an address that may not be a frame's: its method, and its published code.
            Assert.Equal((header.Value.MethodDesc, header.Value.Start), sos.PublishedCode(frame.InstructionPointer));
        }
        var native = attached.Registers(internals.Tid("P/Invoke 1")).Rip; // in libc's usleep
        Assert.Null(sos.Find(native));
        Assert.Null(sos.PublishedCode(native));
    }

    /// <summary>
    /// CodeMap finds the unwind info of JIT-compiled code in its RealCodeHeader (the MethodDesc, then the function count
    /// and entries) and of precompiled code in its ReadyToRun image (the RuntimeFunctions section), and parses it.
    /// </summary>
    [Fact]
    public void Unwind_info_is_found_for_JIT_compiled_and_precompiled_code()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var sos = SosCodeHeaders.TryCreate(attached.Runtime) ?? throw new InvalidOperationException("no SOSDac interface");
        var code = new CodeMap(attached.Runtime, attached.Runtime, sos, new ExecutableRegions(attached.Pid), () => { });
        var memory = new WalkMemory(attached.Memory);
        foreach (var frame in new[] { SpinnerLeaf(attached), PrecompiledFrame(attached) })
        {
            var found = code.Find(frame.InstructionPointer, memory);
            Assert.True(found is { Unwind: not null }, $"no unwind info for {frame.Method!.Name} at {frame.InstructionPointer:x}");
            Assert.Equal(frame.Method!.MethodDesc, found.Method?.MethodDesc);
            Assert.InRange(frame.InstructionPointer, found.Start, found.BodyEnd - 1);
        }
    }

    /// <summary>
    /// DacFrameWalk, Snapper's own walk through the DAC's vtables (IXCLRDataProcess, IXCLRDataTask, IXCLRDataStackWalk,
    /// SOS GetFrameName and GetMethodDescPtrFromFrame, the Windows CONTEXT's offsets), yields ClrMD's frames.
    /// </summary>
    [Fact]
    public void The_DAC_walk_through_its_vtables_yields_ClrMDs_frames()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var walk = DacFrameWalk.TryCreate(attached.Runtime, attached.Reader) ?? throw new InvalidOperationException("no DAC interfaces");
        var frames = new List<DacFrameWalk.Frame>();
        foreach (var name in new[] { "P/Invoke 1", "Spinner", "Orders waiter 1", "Payments holder" })
        {
            var thread = attached.Thread(internals.Tid(name));
            Assert.True(walk.TryWalk(thread.OSThreadId, 200, frames), $"{name}: no walk");
            var ours = frames.Where((f, i) => !(f.IsRuntime && i > 0 && frames[i - 1].IsRuntime && frames[i - 1].StackPointer == f.StackPointer))
                .Select(f => f.IsRuntime ? $"[{f.RuntimeFrameName}: {f.RuntimeFrameMethodDesc:x}] sp {f.StackPointer:x}" : $"{f.InstructionPointer:x} sp {f.StackPointer:x}");
            var clrmd = attached.Walk(thread)
                .Select(f => f.Kind != ClrStackFrameKind.ManagedMethod ? $"[{f.FrameName}: {f.Method?.MethodDesc ?? 0:x}] sp {f.StackPointer:x}" : $"{f.InstructionPointer:x} sp {f.StackPointer:x}");
            Assert.Equal(clrmd, ours);
        }
        // The frames whose names Snapper's walk acts on (ExplicitFrames, FrameResolver).
        Assert.True(walk.TryWalk((uint)internals.Tid("P/Invoke 1"), 200, frames));
        Assert.Equal("InlinedCallFrame", frames.First(f => f.IsRuntime).RuntimeFrameName);
        Assert.Equal("DebuggerU2MCatchHandlerFrame", frames.Last(f => f.IsRuntime).RuntimeFrameName);
    }

    /// <summary>
    /// RuntimeFrameNames describes frame types by name: each must be one the runtime has (its DAC names them by frame
    /// identifier since .NET 10: 1, 2, ...). Those listed for older runtimes only are said so here, and are left out.
    /// </summary>
    [Fact]
    public void Every_frame_type_Snapper_names_is_one_the_runtime_has()
    {
        string[] notInThisRuntime =
        [
            "HelperMethodFrame", "HelperMethodFrame_1OBJ", "HelperMethodFrame_2OBJ", "HelperMethodFrame_3OBJ", "HelperMethodFrame_PROTECTOBJ",
            "ProtectByRefsFrame", "UMThkCallFrame", "TailCallFrame", "ComMethodFrame", "CLRToCOMMethodFrame",
            "Unknown", // Snapper's own name for a frame the DAC did not name
        ];
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var sos = DacInterfaces.Find(attached.Runtime, "SOSDac") ?? throw new InvalidOperationException("no SOSDac interface");
        var runtimeHas = new HashSet<string>(StringComparer.Ordinal);
        var name = stackalloc char[128];
        for (ulong identifier = 1; identifier < 256; identifier++)
        {
            uint needed;
            if (((delegate* unmanaged<nint, ulong, uint, char*, uint*, int>)(*(nint**)sos)[43])(sos, identifier, 128, name, &needed) == 0)
                runtimeHas.Add(new string(name));
        }
        output.WriteLine($"the runtime's frame types: {string.Join(", ", runtimeHas.Order())}");
        output.WriteLine($"not named by Snapper: {string.Join(", ", runtimeHas.Except(RuntimeFrameNames.Named).Order())}");
        Assert.Contains("InlinedCallFrame", runtimeHas);
        Assert.Contains("DebuggerU2MCatchHandlerFrame", runtimeHas);
        Assert.Empty(RuntimeFrameNames.Named.Except(notInThisRuntime).Except(runtimeHas));
    }

    /// <summary>
    /// ExplicitFrames learns, from the DAC's walks of three threads in a P/Invoke, where a Thread keeps its innermost
    /// Frame and where an InlinedCallFrame keeps its caller's return address and stack pointer; with what it learned it
    /// reads a fourth thread's frames as the DAC walks them: the chain through Frame::m_pNext (offset 8) to FRAME_TOP, the
    /// method in m_Datum (offset 16), the caller's frame pointer after its return address.
    /// </summary>
    [Fact]
    public void Frame_layouts_are_learned_from_the_DACs_walks_and_read_another_threads_frames_as_the_DAC_does()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var memory = new WalkMemory(attached.Memory);
        var explicitFrames = new ExplicitFrames();
        var threads = internals.Target.Threads().Where(t => t.Name.StartsWith("P/Invoke ", StringComparison.Ordinal)).Select(t => attached.Thread(t.Tid)).ToList();
        Assert.Equal(4, threads.Count);
        foreach (var thread in threads.Take(3)) explicitFrames.Learn(thread.Address, attached.Walk(thread), memory);

        var last = threads[3];
        var dac = attached.Walk(last);
        var runtimeFrames = dac.Where(f => f.Kind != ClrStackFrameKind.ManagedMethod).Select(f => f.StackPointer).ToList();
        Assert.True(explicitFrames.TryHead(last.Address, memory, out var head), "the Thread's innermost Frame was not learned");
        Assert.Equal(runtimeFrames[0], head);
        var chain = new List<ulong> { head };
        // Bounded: a layout read wrong can lead anywhere, a loop included.
        while (chain.Count <= runtimeFrames.Count && ExplicitFrames.TryNext(chain[^1], memory, out var next) && next != ExplicitFrames.Top) chain.Add(next);
        Assert.Equal(runtimeFrames, chain);
        Assert.True(ExplicitFrames.TryNext(chain[^1], memory, out var top) && top == ExplicitFrames.Top, "the chain does not end at FRAME_TOP");

        Assert.Equal((ExplicitFrames.Kind.InlinedCall, "InlinedCallFrame"), explicitFrames.Classify(head, memory));
        var call = explicitFrames.InlinedCallOf(head, memory) ?? throw new InvalidOperationException("the InlinedCallFrame's layout was not learned");
        var pInvoke = dac[0];
        var caller = dac.First(f => f.Kind == ClrStackFrameKind.ManagedMethod);
        Assert.Equal(pInvoke.Method?.MethodDesc, call.Target?.MethodDesc);
        Assert.Equal((caller.InstructionPointer, caller.StackPointer), (call.Caller.Ip, call.Caller.Sp));
        Assert.Equal(FramePointerOf(last, caller.StackPointer), call.Caller.Fp);
    }

    /// <summary>
    /// CodeVersionILOffsets (IXCLRDataProcess's method-instance enumeration by address, IXCLRDataMethodInstance's
    /// GetILOffsetsByAddress): the IL offset of the spinning loop's instruction, as ClrMD's map of that code says.
    /// </summary>
    [Fact]
    public void IL_offsets_are_read_from_the_code_version_holding_an_address()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var offsets = CodeVersionILOffsets.TryCreate(attached.Runtime) ?? throw new InvalidOperationException("no IXCLRDataProcess");
        var leaf = SpinnerLeaf(attached);
        var mapped = leaf.Method!.ILOffsetMap.Where(m => m.StartAddress <= leaf.InstructionPointer && leaf.InstructionPointer <= m.EndAddress && m.ILOffset >= 0)
            .Select(m => m.ILOffset).ToList();
        Assert.NotEmpty(mapped);
        Assert.Contains(offsets.Find(leaf.InstructionPointer), mapped);
    }

    /// <summary>
    /// ExecutableRegions tells code apart by the names of the mappings holding it: JIT-compiled code in anonymous memory
    /// or a "memfd:doublemapper" mapping, precompiled code in the .dll file mapped, native code in a library's file.
    /// </summary>
    [Fact]
    public void Executable_mappings_are_named_as_Snapper_tells_code_apart()
    {
        using var attached = new AttachedRuntime(internals.Target.Pid);
        var regions = new ExecutableRegions(attached.Pid);
        var jitted = SpinnerLeaf(attached).InstructionPointer;
        Assert.True(ExecutableRegions.IsGeneratedCode(regions.ModuleOf(jitted)), $"JIT-compiled code in {regions.ModuleOf(jitted)}");
        Assert.True(regions.MayBeManagedCode(jitted) && !regions.InNativeLibrary(jitted));
        var precompiled = PrecompiledFrame(attached).InstructionPointer;
        Assert.Equal("System.Private.CoreLib.dll", regions.ModuleOf(precompiled));
        Assert.True(regions.MayBeManagedCode(precompiled) && !regions.InNativeLibrary(precompiled));
        var native = attached.Registers(internals.Tid("P/Invoke 1")).Rip;
        Assert.StartsWith("libc", regions.ModuleOf(native));
        Assert.True(regions.InNativeLibrary(native) && !regions.MayBeManagedCode(native));
    }

    /// <summary>The spinning thread's innermost frame: JIT-compiled code (the target is a Debug build: never recompiled).</summary>
    RawFrame SpinnerLeaf(AttachedRuntime attached)
    {
        var leaf = attached.Walk(attached.Thread(internals.Tid("Spinner")))[0];
        Assert.Equal("Spin", leaf.Method?.Name);
        return leaf;
    }

    /// <summary>A frame of any thread in System.Private.CoreLib's precompiled (ReadyToRun) code: its address is in the image.</summary>
    static RawFrame PrecompiledFrame(AttachedRuntime attached)
    {
        var coreLib = attached.Runtime.BaseClassLibrary;
        return attached.Runtime.Threads.SelectMany(attached.Walk).First(f =>
            f.Kind == ClrStackFrameKind.ManagedMethod && f.Method is not null && coreLib.ImageBase <= f.InstructionPointer && f.InstructionPointer < coreLib.ImageBase + coreLib.Size);
    }

    /// <summary>The frame pointer (RBP) of the managed frame at <paramref name="stackPointer"/>, from the DAC's context for it.</summary>
    static ulong FramePointerOf(ClrThread thread, ulong stackPointer)
    {
        const int RbpOffset = 160; // in the Windows x64 CONTEXT the DAC fills
        var frame = thread.EnumerateStackTrace(includeContext: true, 200).First(f => f.Kind == ClrStackFrameKind.ManagedMethod && f.StackPointer == stackPointer);
        return BitConverter.ToUInt64(frame.Context.Slice(RbpOffset, 8));
    }

    /// <summary>IUnknown::QueryInterface: the pointer the object gives for <paramref name="iid"/> (its reference released again).</summary>
    static nint QueryInterface(nint unknown, Guid iid)
    {
        nint result;
        var hr = ((delegate* unmanaged<nint, Guid*, nint*, int>)(*(nint**)unknown)[0])(unknown, &iid, &result);
        Assert.Equal(0, hr);
        ((delegate* unmanaged<nint, uint>)(*(nint**)result)[2])(result);
        return result;
    }
}
