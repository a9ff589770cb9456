namespace Snapper.Benchmark;

/// <summary>What one configuration (target, engine, rate) measured over all its rounds.</summary>
sealed class Measurement(string target, string engine, double rate)
{
    public string Target { get; } = target;
    public string Engine { get; } = engine;
    public double Rate { get; } = rate;
    public List<long> PausesUs { get; } = new();
    public double CpuSeconds { get; set; }
    public int Samples { get; set; }
    public double SampledSeconds { get; set; }
    public List<double> ThroughputRatios { get; } = new();
    public List<double> CpuPerSampleMsByRound { get; } = new();

    /// <summary>The lowest and highest of the rounds' values: the spread a difference must exceed to count.</summary>
    public static string Spread(List<double> rounds, string format) =>
        rounds.Count == 0 ? "" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{rounds.Min().ToString(format, System.Globalization.CultureInfo.InvariantCulture)}-{rounds.Max().ToString(format, System.Globalization.CultureInfo.InvariantCulture)}");

    public double PauseMs(double percentile)
    {
        if (PausesUs.Count == 0) return 0;
        var sorted = PausesUs.Order().ToArray();
        var rank = (int)Math.Ceiling(percentile * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)] / 1000.0;
    }

    public double CpuPerSampleMs => Samples == 0 ? 0 : CpuSeconds * 1000 / Samples;
    public double AchievedRate => SampledSeconds == 0 ? 0 : Samples / SampledSeconds;

    /// <summary>Sampled throughput over baseline throughput, the median over rounds (robust to one noisy round).</summary>
    public double ThroughputRatio => ThroughputRatios.Count == 0 ? 0 : ThroughputRatios.Order().ElementAt(ThroughputRatios.Count / 2);
}
