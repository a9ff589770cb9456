// A .NET app whose runtime is linked into its executable: prints READY, then waits until stdin closes.
Console.WriteLine("READY");
Console.Out.Flush();
Console.In.ReadToEnd();
