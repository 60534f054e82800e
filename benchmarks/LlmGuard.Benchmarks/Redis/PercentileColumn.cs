using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace LlmGuard.Benchmarks.Redis;

/// <summary>
/// A percentile of the measurements. BenchmarkDotNet's own percentile columns stop at P95 and P100 (its
/// <c>StatisticColumn.CreatePercentileColumn</c> is internal), so P99 is read from the same statistics here.
/// </summary>
/// <remarks>Outliers must be kept (<c>OutlierMode.DontRemove</c>), or the tail this column is for is cut off.</remarks>
internal sealed class PercentileColumn(int percentile) : IColumn
{
    public string Id => "Percentile" + percentile.ToString(CultureInfo.InvariantCulture);

    public string ColumnName => "P" + percentile.ToString(CultureInfo.InvariantCulture);

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Statistics;

    public int PriorityInCategory => percentile;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => $"{percentile}th percentile of the measurements, outliers kept";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (summary[benchmarkCase]?.ResultStatistics is not { } statistics)
        {
            return "NA";
        }

        double nanoseconds = statistics.Percentiles.Percentile(percentile);
        return nanoseconds switch
        {
            < 1_000 => nanoseconds.ToString("N1", CultureInfo.InvariantCulture) + " ns",
            < 1_000_000 => (nanoseconds / 1_000).ToString("N1", CultureInfo.InvariantCulture) + " μs",
            _ => (nanoseconds / 1_000_000).ToString("N2", CultureInfo.InvariantCulture) + " ms",
        };
    }
}
