using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Telemetry;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Telemetry;

[Collection(nameof(TelemetryCollection))]
public sealed class TelemetryCreationTests
{
    private const int Runtimes = 100;
    private const int Threads = 8;

    // A second meter with the same name and scope confuses listeners that bind to the first instrument they see
    // (MetricCollector does): they may bind to one that never records.
    [Fact]
    public async Task First_calls_racing_on_a_fresh_runtime_create_one_LlmGuard_meter()
    {
        for (int run = 0; run < Runtimes; run++)
        {
            using var factory = new CountingMeterFactory();
            var runtime = new GuardRuntime(new FakeTimeProvider()) { MeterFactory = factory };
            using var start = new Barrier(Threads);
            var seen = new GuardTelemetry[Threads];
            Task[] threads = Enumerable.Range(0, Threads).Select(i => Task.Factory.StartNew(
                () =>
                {
                    start.SignalAndWait();
                    seen[i] = runtime.Telemetry;
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default)).ToArray();
            await Task.WhenAll(threads).WaitAsync(System.TimeSpan.FromSeconds(10));

            Assert.Equal(1, factory.Created);
            Assert.All(seen, telemetry => Assert.Same(seen[0], telemetry));
        }
    }

    private sealed class CountingMeterFactory : IMeterFactory
    {
        private readonly System.Collections.Concurrent.ConcurrentBag<Meter> _meters = new();

        public int Created => _meters.Count;

        public Meter Create(MeterOptions options)
        {
            options.Scope = this;
            var meter = new Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (Meter meter in _meters)
            {
                meter.Dispose();
            }
        }
    }
}
