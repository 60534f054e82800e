using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Caching;

/// <summary>What a team sees in its logs when caching cannot do its job: each call still gets its answer.</summary>
public sealed class CachingLogTests : IDisposable
{
    private readonly FakeLogCollector _logs = new();
    private readonly ILoggerFactory _loggerFactory;

    public CachingLogTests() => _loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(new FakeLoggerProvider(_logs)));

    public void Dispose() => _loggerFactory.Dispose();

    [Fact]
    public async Task A_cached_method_on_a_runtime_without_a_HybridCache_logs_that_nothing_is_cached_and_still_answers()
    {
        using var runtime = new GuardRuntime(new FakeTimeProvider()) { LoggerFactory = _loggerFactory };
        var assistant = new CachedAssistant(runtime);

        await assistant.AskAsync("q");
        await assistant.AskAsync("q");

        Assert.Equal(2, assistant.Executions);
        FakeLogRecord record = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 13);
        Assert.Equal("CacheUnavailable", record.Id.Name);
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Equal("Scene cache_ask caches answers for 60 s, but the runtime has no HybridCache: nothing is cached", record.Message);
    }

    [Fact]
    public async Task A_cache_that_fails_to_store_is_logged_and_the_caller_still_gets_the_answer()
    {
        var failure = new InvalidOperationException("cache cluster down");
        using var runtime = new GuardRuntime(new FakeTimeProvider()) { LoggerFactory = _loggerFactory, HybridCache = new FailingHybridCache(failure) };
        var assistant = new CachedAssistant(runtime);

        CachedReply reply = await assistant.AskAsync("q");

        Assert.Equal("answer to q", reply.Text);
        FakeLogRecord record = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 14);
        Assert.Equal("CacheStoreFailed", record.Id.Name);
        Assert.Same(failure, record.Exception);
        Assert.Contains("Scene cache_ask could not store an answer", record.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_cache_that_fails_to_read_is_logged_and_the_call_runs_as_a_miss(bool failsAtOnce)
    {
        var failure = new InvalidOperationException("cache cluster down");
        var cache = new FailingHybridCache(failure) { ReadFailure = failsAtOnce ? ReadFailure.AtOnce : ReadFailure.Later };
        using var runtime = new GuardRuntime(new FakeTimeProvider()) { LoggerFactory = _loggerFactory, HybridCache = cache };
        var assistant = new CachedAssistant(runtime);

        CachedReply reply = await assistant.AskAsync("q");

        Assert.Equal("answer to q", reply.Text);
        Assert.Equal(1, assistant.Executions);
        FakeLogRecord record = _logs.GetSnapshot().First(r => r.Id.Id == 17);
        Assert.Equal("CacheReadFailed", record.Id.Name);
        Assert.Same(failure, record.Exception);
    }

    private enum ReadFailure
    {
        None,
        AtOnce,
        Later,
    }

    /// <summary>A cache whose store is down: every write throws, and every read misses or throws.</summary>
    private sealed class FailingHybridCache(Exception failure) : HybridCache
    {
        public ReadFailure ReadFailure { get; init; }

        public override ValueTask<T> GetOrCreateAsync<TState, T>(
            string key,
            TState state,
            Func<TState, CancellationToken, ValueTask<T>> factory,
            HybridCacheEntryOptions? options = null,
            IEnumerable<string>? tags = null,
            CancellationToken cancellationToken = default) => ReadFailure switch
            {
                ReadFailure.AtOnce => throw failure,
                ReadFailure.Later => FailLaterAsync<T>(),
                _ => factory(state, cancellationToken),
            };

        private async ValueTask<T> FailLaterAsync<T>()
        {
            await Task.Yield();
            throw failure;
        }

        public override ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(failure);

        public override ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}
