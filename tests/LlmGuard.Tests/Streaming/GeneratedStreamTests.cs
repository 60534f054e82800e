using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using LlmGuard.Protection;
using LlmGuard.Streaming;
using LlmGuard.Tests.Caching;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;
using static LlmGuard.Tests.Streaming.StreamReading;

namespace LlmGuard.Tests.Streaming;

/// <summary>
/// [Guarded] methods returning IAsyncEnumerable&lt;T&gt;, through the code the generator writes for them: sharing, the
/// attribute's deadlines and limits, fallbacks and chains, unshared streams and the cache.
/// </summary>
public sealed partial class GeneratedStreamTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Two_consumers_of_one_key_share_one_upstream_and_each_gets_every_item()
    {
        var assistant = new StreamingAssistant(new GuardRuntime());
        await using IAsyncEnumerator<string> first = assistant.AnswerAsync("ticket-1", "why?", CancellationToken.None).GetAsyncEnumerator();
        ValueTask<bool> firstMove = first.MoveNextAsync();
        await assistant.Started.Task.WaitAsync(Bound);

        await using IAsyncEnumerator<string> second = assistant.AnswerAsync("ticket-1", "why?", CancellationToken.None).GetAsyncEnumerator();
        ValueTask<bool> secondMove = second.MoveNextAsync();
        assistant.Release.SetResult();

        Assert.True(await firstMove.AsTask().WaitAsync(Bound));
        Assert.True(await secondMove.AsTask().WaitAsync(Bound));
        Assert.Equal(["ticket-1", "why?", "done"], await ReadAsync(first));
        Assert.Equal(["ticket-1", "why?", "done"], await ReadAsync(second));
        Assert.Equal(1, assistant.Starts);
    }

    [Fact]
    public async Task Consumers_of_different_keys_run_their_own_upstreams()
    {
        var assistant = new StreamingAssistant(new GuardRuntime());
        assistant.Release.SetResult();

        List<string> one = await ReadAllAsync(assistant.AnswerAsync("ticket-1", "a", CancellationToken.None));
        List<string> two = await ReadAllAsync(assistant.AnswerAsync("ticket-2", "a", CancellationToken.None));

        Assert.Equal(["ticket-1", "a", "done"], one);
        Assert.Equal(["ticket-2", "a", "done"], two);
        Assert.Equal(2, assistant.Starts);
    }

    [Fact]
    public async Task A_fallback_streams_the_answer_when_the_upstream_fails_before_its_first_item()
    {
        var streams = new ScriptedStreams(new GuardRuntime(new FakeTimeProvider()));
        Task<List<string>> answer = ReadAllAsync(streams.WithFallbackAsync("why?", CancellationToken.None));
        await streams.Upstream("primary:why?").NextStartAsync();
        streams.Upstream("primary:why?").Fail(new InvalidOperationException("the model is down"));

        Assert.Equal(["canned: why?", "the model is down"], await answer.WaitAsync(Bound));
        Assert.Equal(1, streams.Upstream("primary:why?").Starts);
    }

    [Fact]
    public async Task A_guarded_fallback_stops_its_upstream_when_every_consumer_of_the_primary_left()
    {
        var streams = new ScriptedStreams(new GuardRuntime(new FakeTimeProvider()));
        ScriptedUpstream primary = streams.Upstream("primary:why?");
        ScriptedUpstream backup = streams.Upstream("backup:why?");
        using var firstLeaves = new CancellationTokenSource();
        await using IAsyncEnumerator<string> first = streams.ChainedAsync("why?", firstLeaves.Token).GetAsyncEnumerator();
        await using IAsyncEnumerator<string> second = streams.ChainedAsync("why?", CancellationToken.None).GetAsyncEnumerator();
        Task<List<string>> firstItem = TakeAsync(first, 1);
        await primary.NextStartAsync();
        Task<List<string>> secondItem = TakeAsync(second, 1);

        primary.Fail(new InvalidOperationException("the model is down"));
        CancellationToken backupAttempt = await backup.NextStartAsync();
        backup.Yield("backup answer");
        Assert.Equal(["backup answer"], await firstItem);
        Assert.Equal(["backup answer"], await secondItem);

        // One consumer leaving ends only its own reading; the other still reads the fallback's stream.
        ValueTask<bool> firstWaits = first.MoveNextAsync();
        firstLeaves.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => firstWaits.AsTask().WaitAsync(Bound));
        Assert.False(backupAttempt.IsCancellationRequested);

        // The last one leaving cancels the primary's upstream token, which the guarded fallback was called with.
        await second.DisposeAsync();
        await backup.Cancelled.WaitAsync(Bound);
        Assert.True(backupAttempt.IsCancellationRequested);
        Assert.Equal(1, backup.Starts);
    }

    [Fact]
    public async Task With_SingleFlight_false_each_enumeration_runs_its_own_upstream()
    {
        var assistant = new UnsharedAssistant(new GuardRuntime(new FakeTimeProvider()));
        await using IAsyncEnumerator<string> first = assistant.AnswerAsync("why?", CancellationToken.None).GetAsyncEnumerator();
        ValueTask<bool> firstMove = first.MoveNextAsync();
        Assert.Equal(1, await assistant.NextStartAsync());

        // Same arguments while the first upstream runs: a stream of its own, not a join.
        await using IAsyncEnumerator<string> second = assistant.AnswerAsync("why?", CancellationToken.None).GetAsyncEnumerator();
        ValueTask<bool> secondMove = second.MoveNextAsync();
        Assert.Equal(2, await assistant.NextStartAsync());
        assistant.Release.SetResult();

        Assert.True(await firstMove.AsTask().WaitAsync(Bound));
        Assert.True(await secondMove.AsTask().WaitAsync(Bound));
        Assert.Equal(["why? #1", "why? #2"], new SortedSet<string> { first.Current, second.Current });
    }

    [Fact]
    public async Task A_cached_stream_answers_a_later_call_from_the_cache_without_an_upstream()
    {
        using var host = new CacheTestHost();
        var streams = new ScriptedStreams(host.Runtime);
        ScriptedUpstream upstream = streams.Upstream("cached:why?");
        Task<List<string>> first = ReadAllAsync(streams.CachedAsync("why?", CancellationToken.None));
        await upstream.NextStartAsync();
        upstream.Yield("a");
        upstream.Yield("b");
        upstream.Complete();
        Assert.Equal(["a", "b"], await first.WaitAsync(Bound));

        Assert.Equal(["a", "b"], await ReadAllAsync(streams.CachedAsync("why?", CancellationToken.None)).WaitAsync(Bound));
        Assert.Equal(1, upstream.Starts);
    }

    [Fact]
    public async Task The_attributes_first_item_deadline_ends_an_upstream_that_sends_nothing()
    {
        var time = new TimerAwareFakeTimeProvider();
        var streams = new ScriptedStreams(new GuardRuntime(time));
        Task<List<string>> consumer = ReadAllAsync(streams.WithDeadlinesAsync("silent", CancellationToken.None));
        CancellationToken attempt = await streams.Upstream("deadlines:silent").NextStartAsync();
        await time.WhenTimersScheduledAsync().WaitAsync(Bound);

        // FirstItemTimeoutMs = 300, not TimeoutMs = 5000.
        time.Advance(TimeSpan.FromMilliseconds(299));
        Assert.False(attempt.IsCancellationRequested);
        time.Advance(TimeSpan.FromMilliseconds(1));

        await Assert.ThrowsAsync<TimeoutException>(() => consumer.WaitAsync(Bound));
    }

    [Fact]
    public async Task The_attributes_idle_deadline_interrupts_an_upstream_that_stops_sending()
    {
        var time = new TimerAwareFakeTimeProvider();
        var streams = new ScriptedStreams(new GuardRuntime(time));
        ScriptedUpstream upstream = streams.Upstream("deadlines:stalls");
        await using IAsyncEnumerator<string> consumer = streams.WithDeadlinesAsync("stalls", CancellationToken.None).GetAsyncEnumerator();
        Task<List<string>> firstItem = TakeAsync(consumer, 1);
        CancellationToken attempt = await upstream.NextStartAsync();
        upstream.Yield("a");
        Assert.Equal(["a"], await firstItem);
        await time.WhenTimersScheduledAsync().WaitAsync(Bound);

        // IdleTimeoutMs = 200, not FirstItemTimeoutMs = 300 nor TimeoutMs = 5000.
        time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.False(attempt.IsCancellationRequested);
        time.Advance(TimeSpan.FromMilliseconds(1));

        LlmStreamInterruptedException interrupted = await Assert.ThrowsAsync<LlmStreamInterruptedException>(() => RestAsync(consumer));
        Assert.IsType<TimeoutException>(interrupted.InnerException);
    }

    [Fact]
    public async Task The_attributes_MaxConcurrency_refuses_a_second_upstream_while_the_first_streams()
    {
        var streams = new ScriptedStreams(new GuardRuntime(new FakeTimeProvider()));
        ScriptedUpstream first = streams.Upstream("limited:a");
        ScriptedUpstream second = streams.Upstream("limited:b");
        await using IAsyncEnumerator<string> streaming = streams.LimitedAsync("a", CancellationToken.None).GetAsyncEnumerator();
        Task<List<string>> firstItem = TakeAsync(streaming, 1);
        await first.NextStartAsync();
        first.Yield("a1");
        Assert.Equal(["a1"], await firstItem);

        LlmLimitExceededException refused = await Assert.ThrowsAsync<LlmLimitExceededException>(
            () => ReadAllAsync(streams.LimitedAsync("b", CancellationToken.None)).WaitAsync(Bound));
        Assert.Equal(LlmLimitExceededException.Concurrency, refused.Limit);
        Assert.Equal(0, second.Starts);

        // The permit comes back when the first upstream ends.
        first.Complete();
        Assert.Empty(await RestAsync(streaming));
        Task<List<string>> after = ReadAllAsync(streams.LimitedAsync("b", CancellationToken.None));
        await second.NextStartAsync();
        second.Yield("b1");
        second.Complete();
        Assert.Equal(["b1"], await after.WaitAsync(Bound));
    }

    // The first item was already read by the caller's MoveNextAsync.
    private static async Task<List<string>> ReadAsync(IAsyncEnumerator<string> items)
    {
        var read = new List<string> { items.Current };
        while (await items.MoveNextAsync().AsTask().WaitAsync(Bound))
        {
            read.Add(items.Current);
        }

        return read;
    }

    private static async Task<List<string>> ReadAllAsync(IAsyncEnumerable<string> items)
    {
        var read = new List<string>();
        await foreach (string item in items.WithCancellation(CancellationToken.None))
        {
            read.Add(item);
        }

        return read;
    }

    /// <summary>
    /// One [Guarded] stream per setting under test. Every core returns the stream of a <see cref="ScriptedUpstream"/>
    /// named by the method and the question, which the test feeds.
    /// </summary>
    private sealed partial class ScriptedStreams(GuardRuntime runtime)
    {
        private readonly GuardRuntime _runtime = runtime;
        private readonly ConcurrentDictionary<string, ScriptedUpstream> _upstreams = new();

        public ScriptedUpstream Upstream(string name) => _upstreams.GetOrAdd(name, static _ => new ScriptedUpstream());

        [Guarded(Scene = "generated_fallback", Key = "{question}", TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(CannedAnswer))]
        public partial IAsyncEnumerable<string> WithFallbackAsync(string question, CancellationToken cancellationToken);

        private IAsyncEnumerable<string> WithFallbackCoreAsync(string question, CancellationToken cancellationToken) =>
            Upstream("primary:" + question).RunAsync(question, cancellationToken);

        private static async IAsyncEnumerable<string> CannedAnswer(string question, Exception exception)
        {
            await Task.Yield();
            yield return "canned: " + question;
            yield return exception.Message;
        }

        [Guarded(Scene = "generated_chain", Key = "{question}", TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(BackupAsync))]
        public partial IAsyncEnumerable<string> ChainedAsync(string question, CancellationToken cancellationToken);

        private IAsyncEnumerable<string> ChainedCoreAsync(string question, CancellationToken cancellationToken) =>
            Upstream("primary:" + question).RunAsync(question, cancellationToken);

        [Guarded(Scene = "generated_backup", Key = "{question}", TimeoutMs = 0, MaxRetries = 0)]
        public partial IAsyncEnumerable<string> BackupAsync(string question, CancellationToken cancellationToken);

        private IAsyncEnumerable<string> BackupCoreAsync(string question, CancellationToken cancellationToken) =>
            Upstream("backup:" + question).RunAsync(question, cancellationToken);

        [Guarded(Scene = "generated_cached", Key = "{$user}:{question}", CacheSeconds = 60, TimeoutMs = 0, MaxRetries = 0)]
        public partial IAsyncEnumerable<string> CachedAsync(string question, CancellationToken cancellationToken);

        private IAsyncEnumerable<string> CachedCoreAsync(string question, CancellationToken cancellationToken) =>
            Upstream("cached:" + question).RunAsync(question, cancellationToken);

        [Guarded(Scene = "generated_deadlines", Key = "{question}", TimeoutMs = 5000, FirstItemTimeoutMs = 300, IdleTimeoutMs = 200, MaxRetries = 0)]
        public partial IAsyncEnumerable<string> WithDeadlinesAsync(string question, CancellationToken cancellationToken);

        private IAsyncEnumerable<string> WithDeadlinesCoreAsync(string question, CancellationToken cancellationToken) =>
            Upstream("deadlines:" + question).RunAsync(question, cancellationToken);

        [Guarded(Scene = "generated_limited", Key = "{question}", MaxConcurrency = 1, TimeoutMs = 0, MaxRetries = 0)]
        public partial IAsyncEnumerable<string> LimitedAsync(string question, CancellationToken cancellationToken);

        private IAsyncEnumerable<string> LimitedCoreAsync(string question, CancellationToken cancellationToken) =>
            Upstream("limited:" + question).RunAsync(question, cancellationToken);
    }

    /// <summary>SingleFlight = false: each upstream numbers itself, announces its start and waits for <see cref="Release"/>.</summary>
    private sealed partial class UnsharedAssistant(GuardRuntime runtime)
    {
        private readonly GuardRuntime _runtime = runtime;
        private readonly Channel<int> _starts = Channel.CreateUnbounded<int>();
        private int _startCount;

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<int> NextStartAsync() => _starts.Reader.ReadAsync().AsTask().WaitAsync(Bound);

        [Guarded(Scene = "generated_unshared", SingleFlight = false, TimeoutMs = 0, MaxRetries = 0)]
        public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

        private async IAsyncEnumerable<string> AnswerCoreAsync(string question, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            int number = Interlocked.Increment(ref _startCount);
            _starts.Writer.TryWrite(number);
            await Release.Task.WaitAsync(cancellationToken);
            yield return $"{question} #{number}";
        }
    }

    private sealed partial class StreamingAssistant(GuardRuntime runtime)
    {
        private int _starts;

        private readonly GuardRuntime _runtime = runtime;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Starts => Volatile.Read(ref _starts);

        [Guarded(Scene = "generated-stream", Key = "{ticketId}:{question}", TimeoutMs = 5000)]
        public partial IAsyncEnumerable<string> AnswerAsync(string ticketId, string question, CancellationToken cancellationToken);

        private async IAsyncEnumerable<string> AnswerCoreAsync(string ticketId, string question, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _starts);
            Started.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            yield return ticketId;
            yield return question;
            yield return "done";
        }
    }
}
