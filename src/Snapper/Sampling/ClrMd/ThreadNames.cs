using System.Text;
using Snapper.Sampling.Linux;

namespace Snapper.Sampling.ClrMd;

/// <summary>
/// The OS name (comm) of each thread, from a kept-open /proc file per thread. .NET sets comm from Thread.Name (15
/// characters at most), also when a started thread is renamed, so a changed comm is how Snapper learns of a rename
/// without reading the heap. Reading every thread's comm on every sample would cost more than needed, so they are
/// re-read in turns, a few tens a second whatever the sampling rate: a managed re-read after a rename happens at most
/// once a second anyway (see <see cref="ManagedThreadNames"/>).
/// </summary>
sealed class ThreadNames(int pid) : IDisposable
{
    const int RecheckedPerSecond = 20;

    readonly ThreadFiles _files = new(pid, "comm");
    readonly Dictionary<int, string?> _names = new();
    readonly byte[] _buffer = new byte[64];
    readonly List<int> _recheckOrder = new();
    int _next;
    long _recheckedAt = Environment.TickCount64;

    public string? Get(int tid)
    {
        if (!_names.TryGetValue(tid, out var name))
        {
            _names[tid] = name = Read(tid);
            _recheckOrder.Add(tid);
        }
        return name;
    }

    /// <summary>Re-reads the names of the next few threads, as many as are due since the last call; true when one of them changed.</summary>
    public bool RecheckSome()
    {
        var now = Environment.TickCount64;
        var due = (int)Math.Min((now - _recheckedAt) * RecheckedPerSecond / 1000, _recheckOrder.Count);
        if (due == 0) return false;
        _recheckedAt = now;
        var changed = false;
        for (var i = 0; i < due; i++)
        {
            _next = (_next + 1) % _recheckOrder.Count;
            var tid = _recheckOrder[_next];
            var name = Read(tid);
            if (name is not null && name != _names[tid])
            {
                _names[tid] = name;
                changed = true;
            }
        }
        return changed;
    }

    public void Retain(HashSet<int> live)
    {
        _files.Retain(live);
        _names.KeepOnly(live);
        _recheckOrder.RemoveAll(t => !live.Contains(t));
    }

    string? Read(int tid)
    {
        var length = _files.Read(tid, _buffer);
        if (length <= 0) return null;
        var text = _buffer.AsSpan(0, length).TrimEnd((byte)'\n');
        return Encoding.UTF8.GetString(text);
    }

    public void Dispose() => _files.Dispose();
}
