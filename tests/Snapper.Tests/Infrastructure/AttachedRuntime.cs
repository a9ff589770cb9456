using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling;
using Snapper.Sampling.ClrMd;
using Snapper.Sampling.Linux;

namespace Snapper.Tests.Infrastructure;

/// <summary>
/// A target held still by ClrMD (every thread stopped by its own attach) and its runtime, made as Snapper makes it
/// (<see cref="RuntimeSession"/>: the DAC beside the target's libcoreclr.so), for tests that put Snapper's internal
/// readers against the runtime directly. Disposing detaches, and the target runs on.
/// </summary>
sealed class AttachedRuntime : IDisposable
{
    readonly DataTarget _target;

    public AttachedRuntime(int pid)
    {
        Pid = pid;
        _target = DataTarget.AttachToProcess(pid, suspend: true);
        try
        {
            Runtime = RuntimeSession.Create(_target, TargetProcess.Inspect(pid), out _);
        }
        catch
        {
            _target.Dispose();
            throw;
        }
        Memory = new ProcessMemory(pid);
    }

    public int Pid { get; }
    public ClrRuntime Runtime { get; }
    public ProcessMemory Memory { get; }
    public IDataReader Reader => _target.DataReader;

    public ClrThread Thread(int tid) => Assert.Single(Runtime.Threads, t => t.OSThreadId == tid);

    /// <summary>A static field's object, of a type of the target's own assembly.</summary>
    public ClrObject Static(string typeName, string field)
    {
        var module = Assert.Single(Runtime.EnumerateModules(), m => Path.GetFileName(m.Name) == "Snapper.TestTarget.dll");
        var type = module.GetTypeByName(typeName) ?? throw new InvalidOperationException($"no type {typeName}");
        var value = (type.GetStaticFieldByName(field) ?? throw new InvalidOperationException($"no field {typeName}.{field}")).ReadObject(Runtime.AppDomains[0]);
        Assert.True(value.IsValid, $"{typeName}.{field} is not an object");
        return value;
    }

    /// <summary>The DAC's walk of a thread as ClrMD yields it (each runtime frame once), as Snapper's reference walk keeps it.</summary>
    public List<RawFrame> Walk(ClrThread thread)
    {
        var frames = new List<RawFrame>();
        foreach (var frame in thread.EnumerateStackTrace(includeContext: false, 200))
        {
            var raw = new RawFrame(frame.Kind, frame.Method, frame.Kind == ClrStackFrameKind.ManagedMethod ? null : frame.FrameName, frame.InstructionPointer,
                StackPointer: frame.StackPointer);
            if (raw.Kind != ClrStackFrameKind.ManagedMethod && frames.Count > 0 && frames[^1].SameFrameAs(raw)) continue;
            frames.Add(raw);
        }
        return frames;
    }

    /// <summary>The registers the thread stopped with.</summary>
    public AMD64Context Registers(int tid)
    {
        var context = new byte[System.Runtime.CompilerServices.Unsafe.SizeOf<AMD64Context>()];
        Assert.True(Reader.GetThreadContext((uint)tid, 0x10003f, context), $"no registers for thread {tid}");
        return MemoryMarshal.Read<AMD64Context>(context);
    }

    public void Dispose()
    {
        Memory.Dispose();
        Runtime.Dispose();
        _target.Dispose();
    }
}
