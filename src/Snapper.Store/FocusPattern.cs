using System.Text.RegularExpressions;

namespace Snapper.Store;

/// <summary>
/// <c>--focus &lt;regex&gt;</c>: keeps the samples whose stack has at least one frame whose <c>Type.Method</c> name
/// (<see cref="FrameInfo.DisplayName"/>, e.g. <c>Shop.OrdersController.Checkout</c>; for native and transition frames
/// the name shown in reports) matches. A .NET regular expression, unanchored and case-sensitive; prefix <c>(?i)</c> to
/// ignore case. An async method's state machine frame (<c>Shop.OrdersController+&lt;Checkout&gt;d__5.MoveNext</c>) also
/// matches as the method people wrote (<c>Shop.OrdersController.Checkout</c>), so one pattern finds a handler whether
/// it is async or not. Answers are cached per frame, so a stack costs one lookup per frame after the first sight.
/// </summary>
public sealed class FocusPattern
{
    // Frame names come from the target: a pathological one must not hang Snapper in backtracking.
    static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    readonly Regex _pattern;
    readonly Dictionary<FrameInfo, bool> _frames = new();

    FocusPattern(Regex pattern) => _pattern = pattern;

    public string Pattern => _pattern.ToString();

    /// <summary>Parses a pattern; null when it is empty or not a valid regular expression (<paramref name="error"/> says why).</summary>
    public static FocusPattern? TryParse(string pattern, out string? error)
    {
        if (string.IsNullOrWhiteSpace(pattern))
        {
            error = "it is empty";
            return null;
        }
        try
        {
            error = null;
            return new FocusPattern(new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout));
        }
        catch (ArgumentException e)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>A fresh matcher with the same pattern (the frame cache is not thread-safe: one per consumer).</summary>
    public FocusPattern Clone() => new(_pattern);

    public bool Matches(IEnumerable<FrameInfo> frames)
    {
        foreach (var frame in frames)
            if (Matches(frame)) return true;
        return false;
    }

    static readonly Regex StateMachine = new(@"^(?<type>.+)\+<(?<method>[^<>]+)>d__\d+(?:`\d+)?(?:<.*>)?$", RegexOptions.CultureInvariant);

    /// <summary>"Shop.Orders.Checkout" for the frame "Shop.Orders+&lt;Checkout&gt;d__5.MoveNext"; null for any other frame.</summary>
    public static string? AsyncMethodName(FrameInfo frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.MethodName != "MoveNext" || !frame.TypeName.Contains(">d__", StringComparison.Ordinal)) return null;
        var match = StateMachine.Match(frame.TypeName);
        return match.Success ? match.Groups["type"].Value + "." + match.Groups["method"].Value : null;
    }

    public bool Matches(FrameInfo frame)
    {
        if (_frames.TryGetValue(frame, out var known)) return known;
        bool match;
        try
        {
            match = _pattern.IsMatch(frame.DisplayName) || (AsyncMethodName(frame) is { } written && _pattern.IsMatch(written));
        }
        catch (RegexMatchTimeoutException)
        {
            match = false;
        }
        _frames[frame] = match;
        return match;
    }
}
