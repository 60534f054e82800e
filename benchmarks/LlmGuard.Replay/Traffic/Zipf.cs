using System;

namespace LlmGuard.Replay.Traffic;

/// <summary>Draws ranks 0 … n−1 with probability proportional to 1 / (rank + 1)^exponent.</summary>
public sealed class Zipf
{
    private readonly double[] _cumulative;

    public Zipf(int n, double exponent)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        _cumulative = new double[n];
        double sum = 0;
        for (int rank = 0; rank < n; rank++)
        {
            sum += 1.0 / Math.Pow(rank + 1, exponent);
            _cumulative[rank] = sum;
        }

        for (int rank = 0; rank < n; rank++)
        {
            _cumulative[rank] /= sum;
        }
    }

    /// <summary>The probability of <paramref name="rank"/>.</summary>
    public double Weight(int rank) => _cumulative[rank] - (rank == 0 ? 0 : _cumulative[rank - 1]);

    public int Next(Random random)
    {
        int index = Array.BinarySearch(_cumulative, random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, _cumulative.Length - 1);
    }
}
