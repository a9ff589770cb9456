using System.Globalization;

namespace Snapper.Cli;

/// <summary>A live "samples, rate, elapsed" line, shown only when stdout is a terminal (never in logs or pipes).</summary>
public sealed class ProgressLine
{
    long _lastDrawTicks;

    public static ProgressLine? ForConsole() => Console.IsOutputRedirected ? null : new ProgressLine();

    public void Update(int samples, TimeSpan elapsed)
    {
        var now = Environment.TickCount64;
        if (now - _lastDrawTicks < 100) return; // ten redraws a second is plenty
        _lastDrawTicks = now;
        var rate = elapsed.TotalSeconds > 0 ? samples / elapsed.TotalSeconds : 0;
        Console.Write(string.Create(CultureInfo.InvariantCulture, $"\r  {samples} samples  {rate:F1}/s  {elapsed.TotalSeconds:F1}s elapsed   "));
    }

    public void Finish() => Console.WriteLine();
}
