namespace Snapper.Tests.Infrastructure;

/// <summary>The dotnet host that runs the tests, so targets and Snapper use the same runtime.</summary>
public static class Dotnet
{
    public static string Host => Snapper.Cli.DotnetHost.Path;
}
