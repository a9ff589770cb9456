namespace Snapper.Sampling.Async;

/// <summary>
/// The method a C# compiler-generated state machine belongs to: <c>Shop.Orders+&lt;GetAsync&gt;d__3</c> is
/// <c>Shop.Orders.GetAsync</c>; a local function's <c>&lt;&lt;Run&gt;g__Core|4_0&gt;d</c> is <c>Run.Core</c>; a
/// lambda's <c>&lt;&lt;Run&gt;b__0&gt;d</c> is <c>Run (lambda)</c>; top-level statements' <c>&lt;&lt;Main&gt;$&gt;d__0</c> are
/// <c>Main</c>. A name that does not look like a state machine's is returned as it is.
/// </summary>
public static class AsyncMethodNames
{
    public static string Of(string stateMachineType)
    {
        var nested = stateMachineType.LastIndexOf("+<", StringComparison.Ordinal);
        if (nested < 0) return stateMachineType;
        var declaring = WithoutClosureClass(stateMachineType[..nested]);
        var close = MatchingClose(stateMachineType, nested + 1);
        if (close < 0) return stateMachineType;
        var method = MethodOf(stateMachineType[(nested + 2)..close]);
        return declaring.Length == 0 ? method : declaring + "." + method;
    }

    /// <summary>Lambdas' state machines are nested in the compiler's closure class (<c>&lt;&gt;c</c>, <c>&lt;&gt;c__DisplayClass0_0</c>).</summary>
    static string WithoutClosureClass(string declaring)
    {
        var last = declaring.LastIndexOf('+');
        return last >= 0 && declaring.AsSpan(last + 1).StartsWith("<>c", StringComparison.Ordinal) ? declaring[..last] : declaring;
    }

    /// <summary>The method part of a state machine's name (between its outer angle brackets).</summary>
    static string MethodOf(string inner)
    {
        if (!inner.StartsWith('<')) return inner; // an ordinary method: <GetAsync>
        var close = MatchingClose(inner, 0);
        if (close < 0) return inner;
        var outer = MethodOf(inner[1..close]); // <Main>$ inside: a lambda of top-level statements
        var rest = inner[(close + 1)..];
        if (rest.StartsWith("g__", StringComparison.Ordinal)) // a local function: <Run>g__Core|4_0
        {
            var end = rest.IndexOf('|');
            return outer + "." + (end > 3 ? rest[3..end] : rest[3..]);
        }
        if (rest.StartsWith("b__", StringComparison.Ordinal)) return outer + " (lambda)";
        return outer; // <Main>$: top-level statements
    }

    static int MatchingClose(string text, int open)
    {
        var depth = 0;
        for (var i = open; i < text.Length; i++)
        {
            if (text[i] == '<') depth++;
            else if (text[i] == '>' && --depth == 0) return i;
        }
        return -1;
    }
}
