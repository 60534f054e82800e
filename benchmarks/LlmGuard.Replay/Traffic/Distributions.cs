using System;

namespace LlmGuard.Replay.Traffic;

/// <summary>The few distributions the traffic and the model draw from, on a seeded <see cref="Random"/>.</summary>
public static class Distributions
{
    /// <summary>Exponential with the given mean: the gaps of a Poisson process.</summary>
    public static double Exponential(Random random, double mean) => -mean * Math.Log(1.0 - random.NextDouble());

    /// <summary>Log-normal given by its median and the standard deviation of its logarithm.</summary>
    public static double LogNormal(Random random, double median, double sigma) => LogNormal(median, sigma, StandardNormal(random));

    /// <summary>Log-normal from a standard normal draw <paramref name="z"/>.</summary>
    public static double LogNormal(double median, double sigma, double z) => median * Math.Exp(sigma * z);

    /// <summary>Geometric on 1, 2, 3, … with the given mean (at least 1), capped at <paramref name="max"/>.</summary>
    public static int Geometric(Random random, double mean, int max)
    {
        if (mean <= 1.0)
        {
            return 1;
        }

        double p = 1.0 / mean;
        int value = 1 + (int)Math.Floor(Math.Log(1.0 - random.NextDouble()) / Math.Log(1.0 - p));
        return Math.Min(value, max);
    }

    /// <summary>Standard normal (Box–Muller).</summary>
    public static double StandardNormal(Random random) => StandardNormal(random.NextDouble(), random.NextDouble());

    /// <summary>Standard normal from two uniform draws in [0, 1).</summary>
    public static double StandardNormal(double u1, double u2) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - u1)) * Math.Cos(2.0 * Math.PI * u2);
}
