using Microsoft.Diagnostics.Runtime;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// A walk without a stop is a function of the thread's registers (pc, stack pointer, frame pointer) and of the words it
/// read: return addresses and saved frame pointers on the stack, the runtime Frames there, the Thread's innermost-Frame
/// word, the code bytes at the pc. So a thread whose registers are the ones of its last such walk, and whose words the
/// walk read hold the same bytes now, has that walk's stack, whatever else in its stack changed (the locals of its
/// callers, which the whole-stack hash of <see cref="StackReuse"/> includes). On a web service most threads that ran
/// since the last sample are back in the same wait with other locals: each was copied whole (10-30 KB) and walked again.
/// Only walks that needed no native-leaf recovery (a scan of stack words whose meaning can change with new code) and
/// read nothing they could not read are remembered. The check reads the remembered words in one system call; it runs
/// where the copies are made, between the surveys that prove the thread did not run (see UnstoppedWalks).
/// </summary>
sealed class WalkReadSets(ProcessMemory memory)
{
    /// <summary>Read sets larger than this (in separate ranges) are not kept: a walk reads two or three words a frame.</summary>
    const int MaxRanges = 256;

    sealed record Remembered(RawThread Thread, ulong Ip, ulong Sp, ulong Fp, int LinesGeneration, List<(ulong From, int Extent)> Ranges, byte[] Bytes);

    readonly Dictionary<int, Remembered> _threads = new();
    byte[] _buffer = new byte[4096];

    /// <summary>SNAPPER_READSET=off walks every thread again (for comparison: ShopService under wrk, 1.31 against 1.08 ms of CPU a sample).</summary>
    static readonly bool Off = Environment.GetEnvironmentVariable("SNAPPER_READSET") == "off";

    /// <summary>The last walk of the thread, when it provably still holds; else null.</summary>
    /// <param name="tid">Snapper's id of the thread (see ThreadIds).</param>
    public RawThread? TryReuse(ClrThread thread, int tid, in Native.UserRegs regs, int linesGeneration)
    {
        if (Off || !_threads.TryGetValue(tid, out var last) || last.Ip != regs.Rip || last.Sp != regs.Rsp || last.Fp != regs.Rbp
            || last.LinesGeneration != linesGeneration || last.Thread.ThreadAddress != thread.Address || last.Thread.ManagedThreadId != thread.ManagedThreadId
            || last.Thread.Flags != ClrStackWalker.FlagsOf(thread))
            return null;
        if (_buffer.Length < last.Bytes.Length) _buffer = new byte[Math.Max(last.Bytes.Length, 2 * _buffer.Length)];
        var now = _buffer.AsSpan(0, last.Bytes.Length);
        return memory.ReadUncached(last.Ranges, now) == now.Length && now.SequenceEqual(last.Bytes) ? last.Thread : null;
    }

    /// <summary>
    /// Remembers a walk with what it read (<paramref name="reads"/>, as <see cref="FastWalk.WalkMemory"/> recorded them),
    /// reading the bytes again from the same <paramref name="copy"/>; or forgets the thread's last one when it cannot.
    /// </summary>
    public void Remember(RawThread walked, in Native.UserRegs regs, int linesGeneration, List<(ulong Address, int Length)> reads, FastWalk.IWalkMemory copy)
    {
        var tid = walked.OsThreadId;
        var ranges = Merged(reads);
        if (ranges is null || ranges.Count > MaxRanges)
        {
            _threads.Remove(tid);
            return;
        }
        var total = 0;
        foreach (var (_, extent) in ranges) total += extent;
        var bytes = new byte[total];
        var offset = 0;
        foreach (var (from, extent) in ranges)
        {
            if (copy.Read(from, bytes.AsSpan(offset, extent)) != extent)
            {
                _threads.Remove(tid);
                return;
            }
            offset += extent;
        }
        _threads[tid] = new Remembered(walked, regs.Rip, regs.Rsp, regs.Rbp, linesGeneration, ranges, bytes);
    }

    public void Forget(int tid) => _threads.Remove(tid);

    public void Retain(HashSet<int> live) => _threads.KeepOnly(live);

    /// <summary>The reads as ranges in address order, overlapping and touching ones merged; null if a read failed (length 0).</summary>
    static List<(ulong From, int Extent)>? Merged(List<(ulong Address, int Length)> reads)
    {
        if (reads.Count == 0) return null;
        reads.Sort((a, b) => a.Address.CompareTo(b.Address));
        var merged = new List<(ulong From, int Extent)>();
        foreach (var (address, length) in reads)
        {
            if (length <= 0) return null;
            var end = address + (ulong)length;
            if (merged.Count > 0 && address <= merged[^1].From + (ulong)merged[^1].Extent)
            {
                var (from, extent) = merged[^1];
                merged[^1] = (from, (int)(Math.Max(from + (ulong)extent, end) - from));
            }
            else merged.Add((address, length));
        }
        return merged;
    }
}
