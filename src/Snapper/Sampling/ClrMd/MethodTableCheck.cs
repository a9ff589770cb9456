using System.Buffers.Binary;
using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// Tells a real MethodTable from a word that only looks like one, from the target's memory alone: a MethodTable's chain
/// of parents ends at System.Object's. Only what passes is handed to the DAC (a type lookup, a sync block's entry).
/// <para>
/// Why: on Linux the DAC cannot catch a fault of its own. Handed a "MethodTable" read from a word of a stack scan that
/// only looked like an object, or the sync-block index in such a word's "header", it follows the null pointers it reads
/// there and Snapper is killed by SIGSEGV (seen sampling ShopService with lock holders on: a core dump's top frames
/// were in libmscordaccore.so, dereferencing null).
/// </para>
/// The parent's offset in a MethodTable is learned, not assumed: the one offset at which System.String's and
/// System.Int32's MethodTables hold their parents (System.Object's and System.ValueType's) and System.ValueType's holds
/// System.Object's.
/// </summary>
sealed class MethodTableCheck(ProcessMemory memory)
{
    const int BytesSearched = 64, MaxDepth = 32, MaxKnown = 4096;

    readonly HashSet<ulong> _known = new();
    ulong _objectMethodTable;
    int _parentOffset = -1;
    bool _cannotLearn;

    /// <summary>Whether <see cref="Learn"/> has yet to learn what the check needs (and may still).</summary>
    public bool NeedsLearning => _parentOffset < 0 && !_cannotLearn;

    /// <summary>Why the last <see cref="Learn"/> that failed did (for SNAPPER_DEBUG and the tests); null after a success.</summary>
    public string? LearnFailure { get; private set; }

    /// <summary>Learns what the check needs from the runtime (the DAC must be fresh); false when it cannot (yet).</summary>
    public bool Learn(ClrRuntime runtime)
    {
        if (!NeedsLearning) return _parentOffset >= 0;
        try
        {
            var bcl = runtime.BaseClassLibrary;
            ulong Of(string name) => bcl.GetTypeByName(name)?.MethodTable ?? 0;
            var (obj, str, valueType, int32) = (Of("System.Object"), Of("System.String"), Of("System.ValueType"), Of("System.Int32"));
            if (obj == 0 || str == 0 || valueType == 0 || int32 == 0)
            {
                LearnFailure = $"a base type not found (Object {obj:x}, String {str:x}, ValueType {valueType:x}, Int32 {int32:x})";
                return false; // asked again later
            }
            var offsets = Enumerable.Range(0, BytesSearched / 8).Select(i => i * 8)
                .Where(offset => Word(str, offset) == obj && Word(int32, offset) == valueType && Word(valueType, offset) == obj).ToList();
            if (offsets.Count == 1)
            {
                (_objectMethodTable, _parentOffset, LearnFailure) = (obj, offsets[0], null);
                return true;
            }
            LearnFailure = $"{offsets.Count} offsets in the first {BytesSearched} bytes hold the parents (Object {obj:x}, String {str:x}, ValueType {valueType:x}, Int32 {int32:x})";
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ClrDiagnosticsException)
        {
            LearnFailure = $"{e.GetType().Name}: {e.Message}";
            return false;
        }
        _cannotLearn = true; // this runtime's MethodTables are shaped otherwise: nothing passes
        return false;
    }

    /// <summary>Whether <paramref name="methodTable"/> is a MethodTable whose parents lead to System.Object's.</summary>
    public bool IsMethodTable(ulong methodTable)
    {
        if (_parentOffset < 0 || methodTable == 0 || (methodTable & 7) != 0) return false;
        if (methodTable == _objectMethodTable || _known.Contains(methodTable)) return true;
        var current = methodTable;
        for (var depth = 0; depth < MaxDepth; depth++)
        {
            if (Word(current, _parentOffset) is not { } parent || parent == 0 || (parent & 7) != 0) return false;
            if (parent == _objectMethodTable || _known.Contains(parent))
            {
                if (_known.Count >= MaxKnown) _known.Clear();
                _known.Add(methodTable);
                return true;
            }
            current = parent;
        }
        return false;
    }

    ulong? Word(ulong address, int offset)
    {
        Span<byte> word = stackalloc byte[8];
        return memory.ReadUncached(address + (ulong)offset, word) == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(word) : null;
    }
}
