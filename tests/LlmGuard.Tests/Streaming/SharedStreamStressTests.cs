using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Execution;
using LlmGuard.Infrastructure;
using LlmGuard.Streaming;
using LlmGuard.Tests.Usage;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Streaming;

/// <summary>Consumers joining, reading, quitting and cancelling at random on real threads never leak a stream.</summary>
public sealed class SharedStreamStressTests
{
    private const int Workers = 8;
    private const int ConsumersPerWorker = 2_500;
    private const int ItemsPerStream = 4;
    private const string FailingKey = "fails";

    private static readonly string[] Keys = ["a", "b", "c", FailingKey];

    private int _starts;
    private int _ends;

    // The race the stress test hunts, made deterministic: a caller that found the stream listed just before its last
    // consumer left must not join it, since its upstream is being cancelled; it starts a new one instead.
    [Fact]
    public void A_stream_whose_last_consumer_left_refuses_new_consumers_and_is_unlisted()
    {
        var listing = new ConcurrentDictionary<string, SharedStream<string>>();
        var policy = StreamPolicy<string>.Create(new GuardedStreamMethod<string>("stream.race", 0, 0, 0, 0), new GuardRuntime(new FakeTimeProvider()));
        var stream = new SharedStream<string>(policy, listing, "k");
        listing["k"] = stream;
        Assert.True(stream.TryJoin());

        stream.Leave();

        Assert.False(stream.TryJoin());
        Assert.Empty(listing);
    }

    // A bound below the stream's length adds the drop's unlisting and overflowing consumers to the interleavings.
    [Theory]
    [InlineData(GuardedAttribute.DefaultStreamReplayItems)]
    [InlineData(2)]
    public async Task Twenty_thousand_random_consumers_leave_no_stream_and_no_upstream_behind(int replayItems)
    {
        var method = new GuardedStreamMethod<string>("stream.stress", firstItemTimeoutMs: 0, idleTimeoutMs: 0, maxRetries: 0, retryDelayMs: 0, replayItems: replayItems);
        using var meters = new TestMeterFactory();
        using var calls = new MetricCollector<long>(meters, "LlmGuard", "llmguard.calls");
        using var executions = new MetricCollector<long>(meters, "LlmGuard", "llmguard.executions");
        GuardedStreamMethodState<string> state = method.For(new GuardRuntime(new FakeTimeProvider()) { MeterFactory = meters });

        var workers = new Task[Workers];
        for (int w = 0; w < Workers; w++)
        {
            int seed = w;
            workers[w] = Task.Run(() => ConsumeAtRandomAsync(state, new Random(seed), replayItems));
        }

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(2));

        // The upstreams the last consumers cancelled end on their own threads, after those consumers returned.
        StreamReading.WaitUntilNothingInFlight(state.Runtime);
        Assert.True(
            SpinWait.SpinUntil(() => Volatile.Read(ref _ends) == Volatile.Read(ref _starts), TimeSpan.FromSeconds(10)),
            $"{_starts} upstreams started, {_ends} ended");
        Assert.True(_starts > 1);

        // Every consumer is reported once, whichever way it ended, and every upstream once, after its end.
        Assert.Equal(Workers * ConsumersPerWorker, calls.GetMeasurementSnapshot().Count);
        Assert.True(
            SpinWait.SpinUntil(() => executions.GetMeasurementSnapshot().Count == Volatile.Read(ref _starts), TimeSpan.FromSeconds(10)),
            $"{_starts} upstreams started, {executions.GetMeasurementSnapshot().Count} executions reported");
    }

    private async Task ConsumeAtRandomAsync(GuardedStreamMethodState<string> state, Random random, int replayItems)
    {
        for (int i = 0; i < ConsumersPerWorker; i++)
        {
            string key = Keys[random.Next(Keys.Length)];
            int behaviour = random.Next(3);
            int stopAfter = random.Next(ItemsPerStream);
            using var cancellation = new CancellationTokenSource();
            var items = new List<string>();
            try
            {
                await foreach (string item in state.Stream(key, key, UpstreamAsync, null, cancellation.Token))
                {
                    items.Add(item);
                    if (items.Count > stopAfter && behaviour == 1)
                    {
                        break;
                    }

                    if (items.Count > stopAfter && behaviour == 2)
                    {
                        cancellation.Cancel();
                    }
                }

                // Only a consumer that stops early ends with fewer items; one that reads everything of the failing key is interrupted.
                Assert.True(behaviour == 1 || items.Count == ItemsPerStream, $"{key}: {items.Count} items, behaviour {behaviour}");
                Assert.False(behaviour == 0 && key == FailingKey, "the failing upstream ended without an interruption");
            }
            catch (OperationCanceledException cancelled)
            {
                Assert.Equal(2, behaviour);
                Assert.Equal(cancellation.Token, cancelled.CancellationToken);
            }
            catch (LlmStreamOverflowException overflow)
            {
                Assert.True(replayItems < ItemsPerStream, $"overflow with a bound of {replayItems}");
                Assert.Equal(items.Count, overflow.ItemsDelivered);
            }
            catch (LlmStreamInterruptedException interrupted)
            {
                Assert.Equal(FailingKey, key);
                Assert.IsType<IOException>(interrupted.InnerException);
                Assert.Equal(2, items.Count);
            }

            for (int n = 0; n < items.Count; n++)
            {
                Assert.Equal($"{key}{n}", items[n]);
            }
        }
    }

    private async IAsyncEnumerable<string> UpstreamAsync(string key, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _starts);
        try
        {
            for (int n = 0; n < ItemsPerStream; n++)
            {
                await Task.Yield();
                cancellationToken.ThrowIfCancellationRequested();
                if (key == FailingKey && n == 2)
                {
                    throw new IOException("connection reset");
                }

                yield return $"{key}{n}";
            }
        }
        finally
        {
            Interlocked.Increment(ref _ends);
        }
    }
}
