using Microsoft.Diagnostics.Runtime;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// The DAC's own walk of a stopped thread (IXCLRDataStackWalk), frame by frame: each frame's context, and for a runtime
/// frame its address, its type's name (SOS GetFrameName) and the method it names (GetMethodDescPtrFromFrame), exactly
/// what ClrMD's ClrThread.EnumerateStackTrace reads. What it leaves out is ClrMD's description of every frame's method
/// (SOS GetMethodDescData and the module list, anew after each flush): 70-85% of a DAC walk's 15-20 ms on ShopService,
/// with the thread held. The caller names the methods from the fast walk's code map, which knows them across samples.
/// Like every DAC call it must run while the thread is stopped, after the DAC's caches were flushed.
/// </summary>
sealed unsafe class DacFrameWalk
{
    // Slots in the COM vtables, IUnknown's three first (xclrdata.idl, sospriv.idl).
    const int ReleaseSlot = 2;
    const int GetTaskByOSThreadIdSlot = 7; // IXCLRDataProcess
    const int CreateStackWalkSlot = 11; // IXCLRDataTask
    const int GetContextSlot = 3, NextSlot = 5, RequestSlot = 9; // IXCLRDataStackWalk
    const int GetMethodDescPtrFromFrameSlot = 23, GetFrameNameSlot = 43; // ISOSDacInterface

    const uint AllFrames = 0xf; // CLRDATA_SIMPFRAME_*: unrecognized, managed, runtime managed and unmanaged code
    const uint FrameDataRequest = 0xf0000000; // DACSTACKPRIV_REQUEST_FRAME_DATA: the runtime Frame's address, 0 for a managed frame
    const uint ContextFlags = 0x10003f; // CONTEXT_AMD64 | CONTEXT_ALL but the debug registers
    const int ContextSize = 1232, IpOffset = 248, SpOffset = 152; // the Windows x64 CONTEXT the DAC fills
    const int NameChars = 128;

    readonly nint _process, _sos;
    readonly IDataReader _reader;
    readonly byte[] _context = new byte[ContextSize];
    readonly Dictionary<ulong, string?> _frameNames = new();

    DacFrameWalk(nint process, nint sos, IDataReader reader) => (_process, _sos, _reader) = (process, sos, reader);

    /// <summary>Null when this ClrMD does not hold the DAC's interfaces where Snapper looks (see DacInterfaces), or on another architecture.</summary>
    public static DacFrameWalk? TryCreate(ClrRuntime runtime, IDataReader reader) =>
        reader.Architecture == System.Runtime.InteropServices.Architecture.X64
        && DacInterfaces.Find(runtime, "ClrDataProcess") is { } process and not 0 && DacInterfaces.Find(runtime, "SOSDac") is { } sos and not 0
            ? new DacFrameWalk(process, sos, reader)
            : null;

    /// <summary>One frame as the DAC walks it: a managed frame's context, or a runtime frame (its address as the stack pointer).</summary>
    public readonly record struct Frame(ulong InstructionPointer, ulong StackPointer, bool IsRuntime, string? RuntimeFrameName, ulong RuntimeFrameMethodDesc);

    /// <summary>Fills <paramref name="frames"/> innermost first; false when the DAC has no walk for the thread.</summary>
    public bool TryWalk(uint osThreadId, int maxFrames, List<Frame> frames)
    {
        frames.Clear();
        nint task = 0, walk = 0;
        try
        {
            if (Call(_process, GetTaskByOSThreadIdSlot, osThreadId, &task) < 0 || task == 0) return false;
            if (((delegate* unmanaged<nint, uint, nint*, int>)VTable(task)[CreateStackWalkSlot])(task, AllFrames, &walk) < 0 || walk == 0) return false;
            var getContext = (delegate* unmanaged<nint, uint, uint, uint*, byte*, int>)VTable(walk)[GetContextSlot];
            var next = (delegate* unmanaged<nint, int>)VTable(walk)[NextSlot];
            var request = (delegate* unmanaged<nint, uint, uint, byte*, uint, byte*, int>)VTable(walk)[RequestSlot];
            fixed (byte* context = _context)
            {
                // Walked as ClrMD walks it: a frame for each context, until the DAC has no next frame.
                while (frames.Count < maxFrames)
                {
                    uint size;
                    if (getContext(walk, ContextFlags, ContextSize, &size, context) != 0) break;
                    var ip = *(ulong*)(context + IpOffset);
                    var sp = *(ulong*)(context + SpOffset);
                    ulong runtimeFrame = 0;
                    if (request(walk, FrameDataRequest, 0, null, sizeof(ulong), (byte*)&runtimeFrame) != 0) runtimeFrame = 0;
                    if (runtimeFrame == 0) frames.Add(new Frame(ip, sp, false, null, 0));
                    else
                    {
                        // A runtime frame is told by the word at its start (ClrMD's StackFrameInfo.IsInternalFrame).
                        var identifier = _reader.ReadPointer(runtimeFrame);
                        frames.Add(identifier == 0
                            ? new Frame(ip, runtimeFrame, false, null, 0)
                            : new Frame(ip, runtimeFrame, true, FrameName(identifier), MethodDescOf(runtimeFrame)));
                    }
                    if (next(walk) != 0) break;
                }
            }
            return true;
        }
        finally
        {
            if (walk != 0) ((delegate* unmanaged<nint, uint>)VTable(walk)[ReleaseSlot])(walk);
            if (task != 0) ((delegate* unmanaged<nint, uint>)VTable(task)[ReleaseSlot])(task);
        }
    }

    static nint* VTable(nint comObject) => *(nint**)comObject;

    static int Call(nint comObject, int slot, uint arg, nint* result) =>
        ((delegate* unmanaged<nint, uint, nint*, int>)VTable(comObject)[slot])(comObject, arg, result);

    ulong MethodDescOf(ulong runtimeFrame)
    {
        ulong methodDesc;
        return ((delegate* unmanaged<nint, ulong, ulong*, int>)VTable(_sos)[GetMethodDescPtrFromFrameSlot])(_sos, runtimeFrame, &methodDesc) == 0 ? methodDesc : 0;
    }

    /// <summary>The name of a Frame type, by the word that identifies it (a vtable, or a frame identifier since .NET 10).</summary>
    string? FrameName(ulong identifier)
    {
        if (_frameNames.TryGetValue(identifier, out var known)) return known;
        var chars = stackalloc char[NameChars];
        uint needed;
        var hr = ((delegate* unmanaged<nint, ulong, uint, char*, uint*, int>)VTable(_sos)[GetFrameNameSlot])(_sos, identifier, NameChars, chars, &needed);
        string? name = null;
        if (hr == 0)
        {
            var length = 0;
            while (length < NameChars && chars[length] != '\0') length++;
            name = new string(chars, 0, length);
        }
        return _frameNames[identifier] = name;
    }
}
