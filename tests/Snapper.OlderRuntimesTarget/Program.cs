// The test target's scenarios that the older-runtime tests run (see tests/Snapper.TestTarget/Program.cs for what each
// does): mixed, states and native-leaf. Prints "READY <pid>" once its threads are where the tests expect them.
using Snapper.TestTarget;

var scenario = args.Length > 0 ? args[0] : "mixed";
switch (scenario)
{
    case "mixed":
        Scenarios.Mixed();
        break;
    case "states":
        States.Start();
        break;
    case "native-leaf":
        NativeLeaf.Start();
        break;
    default:
        Console.Error.WriteLine($"unknown scenario {scenario}");
        return 2;
}
Console.WriteLine($"READY {Environment.ProcessId}");
Console.Out.Flush();
Thread.Sleep(Timeout.Infinite);
return 0;
