namespace Snapper.Report.Tests;

public sealed class CommandLineRedactorTests
{
    [Theory]
    [InlineData("dotnet app.dll --password hunter2 --port 80", "dotnet app.dll --password *** --port 80")]
    [InlineData("dotnet app.dll --api-key=abc123", "dotnet app.dll --api-key=***")]
    [InlineData("app -Token 'a b c' -v", "app -Token *** -v")]
    [InlineData("app \"Server=db;User Id=sa;Password=s3cr3t;Database=x\"", "app \"Server=db;User Id=sa;Password=***;Database=x\"")]
    [InlineData("app --ConnectionStrings:Default=Host=db", "app --ConnectionStrings:***")] // may hold a password: all of it goes
    [InlineData("app --db-connection-string \"Host=db;Pwd=x\"", "app --db-connection-string ***")]
    [InlineData("app https://host/?access_token=xyz&page=2", "app https://host/?access_token=***&page=2")]
    [InlineData("dotnet Orders.dll --port 8080 --verbose", "dotnet Orders.dll --port 8080 --verbose")]
    [InlineData("app --secret --next", "app --secret --next")]
    public void Secret_values_are_masked_and_the_rest_kept(string commandLine, string expected) =>
        Assert.Equal(expected, CommandLineRedactor.Redact(commandLine));
}
