using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Infrastructure;
using LlmGuard.Tests.Caching;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static LlmGuard.Tests.Streaming.StreamReading;

namespace LlmGuard.Tests.Streaming;

/// <summary>
/// However an upstream ends (its telemetry throwing, a core whose cancellation callback throws), its consumers learn the
/// end, its key is unlisted and the runtime stops counting it; one call runs under one policy.
/// </summary>
public sealed class StreamEndTests
{
    private const string Scene = "stream_end";

    [Fact]
    public async Task A_logger_scope_that_throws_ends_the_stream_for_its_consumers_instead_of_leaving_them_waiting()
    {
        var runtime = new GuardRuntime(new FakeTimeProvider()) { LoggerFactory = new ScopeRefusingLoggerFactory() };
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0).For(runtime);
        var upstream = new ScriptedUpstream();
        upstream.Yield("a");
        upstream.Complete();

        using (LlmCallContext.Begin(tenant: "t1"))
        {
            InvalidOperationException failure = await Assert.ThrowsAsync<InvalidOperationException>(
                () => ReadAllAsync(state.Stream("k", "k", upstream.RunAsync, null, CancellationToken.None)).WaitAsync(Bound));
            Assert.Equal(ScopeRefusingLoggerFactory.Message, failure.Message);

            // The key was unlisted: the next call starts an upstream of its own rather than join one that never ends.
            await Assert.ThrowsAsync<InvalidOperationException>(
                () => ReadAllAsync(state.Stream("k", "k", upstream.RunAsync, null, CancellationToken.None)).WaitAsync(Bound));
        }

        Assert.Equal(0, runtime.InFlightCount);
    }

    [Fact]
    public async Task A_core_whose_cancellation_callback_throws_still_lets_its_last_consumer_leave_and_its_key_start_afresh()
    {
        var runtime = new GuardRuntime(new FakeTimeProvider());
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0).For(runtime);
        int starts = 0;
        IAsyncEnumerator<string> consumer = state.Stream("k", "k", Core, null, CancellationToken.None).GetAsyncEnumerator();
        Assert.Equal(["a"], await TakeAsync(consumer, 1));

        await consumer.DisposeAsync();
        WaitUntilNothingInFlight(runtime);

        await using IAsyncEnumerator<string> again = state.Stream("k", "k", Core, null, CancellationToken.None).GetAsyncEnumerator();
        Assert.Equal(["a"], await TakeAsync(again, 1));
        Assert.Equal(2, Volatile.Read(ref starts));

        async IAsyncEnumerable<string> Core(string arguments, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref starts);
            cancellationToken.Register(static () => throw new InvalidOperationException("the SDK failed to stop"));
            yield return "a";
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    [Fact]
    public async Task A_call_made_before_a_reload_and_read_after_it_runs_wholly_under_the_reloaded_policy()
    {
        using var host = new CacheTestHost(new LlmGuardOptions { Scenes = { [Scene] = new LlmSceneOptions() } });
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0, cacheVersion: "v1").For(host.Runtime);
        var upstream = new ScriptedUpstream();
        upstream.Yield("a");
        upstream.Complete();
        IAsyncEnumerable<string> call = state.Stream("k", "k", upstream.RunAsync, null, CancellationToken.None);

        host.Runtime.Reconfigure(new LlmGuardOptions { Scenes = { [Scene] = new LlmSceneOptions { CacheSeconds = 60 } } });
        Assert.Equal(["a"], await ReadAllAsync(call).WaitAsync(Bound));

        // Stored by the reloaded policy's cache, which the upstream and the consumer both ran under.
        var unused = new ScriptedUpstream();
        Assert.Equal(["a"], await ReadAllAsync(state.Stream("k", "k", unused.RunAsync, null, CancellationToken.None)).WaitAsync(Bound));
        Assert.Equal(0, unused.Starts);
    }

    private sealed class ScopeRefusingLoggerFactory : ILoggerFactory, ILogger
    {
        public const string Message = "The logging backend refused the scope.";

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public IDisposable BeginScope<TState>(TState state)
            where TState : notnull => throw new InvalidOperationException(Message);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }

        public void Dispose()
        {
        }
    }
}
