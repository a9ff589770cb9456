using Snapper.Store;

namespace Snapper.Report;

/// <summary>
/// Interns the methods of a profile's stacks: each stack node maps to a small method index, so the analysis compares
/// ints instead of hashing strings per frame. Tolerates a stack node or frame the profile lacks (a damaged file)
/// by naming it rather than failing the whole report.
/// </summary>
sealed class MethodTable(Profile profile)
{
    readonly List<MethodIdentity> _methods = new();
    readonly Dictionary<MethodIdentity, int> _byIdentity = new();
    readonly Dictionary<int, int> _byFrame = new();

    public int Count => _methods.Count;

    public MethodIdentity this[int index] => _methods[index];

    /// <summary>The method of a stack node, and its parent (0 at the root, or when the node is missing).</summary>
    public int MethodOfStack(int stackId, out int parent)
    {
        if (profile.Stacks.TryGetValue(stackId, out var node))
        {
            parent = node.Parent;
            return MethodOfFrame(node.FrameId);
        }
        parent = 0;
        return Intern(new MethodIdentity(FrameKind.Native, "", "", $"[missing stack node {stackId}]"));
    }

    int MethodOfFrame(int frameId)
    {
        if (_byFrame.TryGetValue(frameId, out var method)) return method;
        method = Intern(profile.Frames.TryGetValue(frameId, out var frame)
            ? MethodIdentity.Of(frame)
            : new MethodIdentity(FrameKind.Native, "", "", $"[missing frame {frameId}]"));
        _byFrame[frameId] = method;
        return method;
    }

    int Intern(MethodIdentity identity)
    {
        if (_byIdentity.TryGetValue(identity, out var index)) return index;
        index = _methods.Count;
        _methods.Add(identity);
        _byIdentity[identity] = index;
        return index;
    }
}
