using Snapper.Sampling;
using Snapper.Store;

namespace Snapper.Cli;

/// <summary>
/// Runs a command body and turns every failure a user can meet into one <c>error: ...</c> line on stderr and a
/// documented exit code. Only a bug prints more, and even then no stack trace unless SNAPPER_DEBUG is set.
/// </summary>
public static class CommandRunner
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (SnapperException e)
        {
            return Fail(e.Code, e.Message);
        }
        catch (TargetRefusedException e)
        {
            return Fail(ExitCodeOf(e.Problem), e.Message);
        }
        catch (StoreException e)
        {
            return Fail(ExitCode.DatabaseError, e.Message);
        }
        catch (Exception e)
        {
            var code = Fail(ExitCode.InternalError, $"unexpected {e.GetType().Name}: {e.Message} (this is a bug in Snapper; please report it)");
            if (DebugSwitch.Enabled) Console.Error.WriteLine(e);
            return code;
        }
    }

    /// <summary>The one place the engine's refusals of a target become exit codes (docs/exit-codes.md).</summary>
    public static ExitCode ExitCodeOf(TargetProblem problem) => problem switch
    {
        TargetProblem.BadRequest => ExitCode.InvalidArguments,
        TargetProblem.NoSuchProcess => ExitCode.NoSuchProcess,
        TargetProblem.NotDotNet => ExitCode.NotDotNet,
        TargetProblem.PermissionDenied => ExitCode.PermissionDenied,
        TargetProblem.AlreadyTraced => ExitCode.AlreadyTraced,
        _ => throw new ArgumentOutOfRangeException(nameof(problem)),
    };

    public static int Fail(ExitCode code, string message)
    {
        Console.Error.WriteLine("error: " + message);
        return (int)code;
    }
}
