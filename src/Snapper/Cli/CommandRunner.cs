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

    public static int Fail(ExitCode code, string message)
    {
        Console.Error.WriteLine("error: " + message);
        return (int)code;
    }
}
