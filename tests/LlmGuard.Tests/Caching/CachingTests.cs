using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace LlmGuard.Tests.Caching;

/// <summary>
/// CacheSeconds through a real HybridCache: a success is served to later calls with the same key until it expires;
/// fallback answers and failures are never stored; keys are hashed, partitioned by the call context and versioned.
/// </summary>
public sealed class CachingTests : IDisposable
{
    private readonly CacheTestHost _host = new();

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task A_repeat_after_the_answer_is_served_from_the_cache_without_running_the_core()
    {
        var assistant = new CachedAssistant(_host.Runtime);

        CachedReply first = await assistant.AskAsync("how do I reset my password?");
        CachedReply repeat = await assistant.AskAsync("how do I reset my password?");

        Assert.Equal(1, assistant.Executions);
        Assert.Equal(first, repeat);
    }

    [Fact]
    public async Task Repeats_get_the_stored_answer_itself_not_a_copy_deserialized_per_call()
    {
        var assistant = new CachedAssistant(_host.Runtime);

        CachedReply first = await assistant.AskAsync("q");
        CachedReply second = await assistant.AskAsync("q");
        CachedReply third = await assistant.AskAsync("q");

        Assert.Equal(1, assistant.Executions);
        Assert.Same(first, second);
        Assert.Same(first, third);
    }

    [Fact]
    public async Task A_caller_whose_token_is_already_cancelled_gets_a_cancelled_task_even_for_a_stored_answer()
    {
        var assistant = new CachedAssistant(_host.Runtime);
        await assistant.AskAsync("q");

        Task<CachedReply> cancelled = assistant.AskAsync("q", new CancellationToken(canceled: true));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.True(cancelled.IsCanceled);
        Assert.Equal(1, assistant.Executions);
    }

    [Fact]
    public async Task A_cached_answer_is_served_until_CacheSeconds_have_passed_and_then_the_core_runs_again()
    {
        var assistant = new CachedAssistant(_host.Runtime);
        await assistant.AskAsync("q");

        _host.Time.Advance(TimeSpan.FromSeconds(59));
        await assistant.AskAsync("q");
        Assert.Equal(1, assistant.Executions);

        _host.Time.Advance(TimeSpan.FromSeconds(2));
        await assistant.AskAsync("q");
        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public async Task A_fallback_answer_is_not_cached()
    {
        var assistant = new CachedAssistant(_host.Runtime) { Answer = static (_, _) => throw new InvalidOperationException("model down") };
        Assert.Equal("sorry", (await assistant.AskOrApologizeAsync("q")).Text);

        assistant.Answer = static (question, _) => Task.FromResult(new CachedReply("answer to " + question));
        CachedReply recovered = await assistant.AskOrApologizeAsync("q");

        Assert.Equal("answer to q", recovered.Text);
        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public async Task A_failure_is_not_cached()
    {
        var assistant = new CachedAssistant(_host.Runtime) { Answer = static (_, _) => throw new InvalidOperationException("model down") };
        await Assert.ThrowsAsync<InvalidOperationException>(() => assistant.AskAsync("q"));

        assistant.Answer = static (question, _) => Task.FromResult(new CachedReply("answer to " + question));
        CachedReply recovered = await assistant.AskAsync("q");

        Assert.Equal("answer to q", recovered.Text);
        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public async Task A_long_multi_line_prompt_with_control_characters_is_cached()
    {
        // HybridCache silently skips keys over 1,024 characters or with control characters; the hash of the key is neither.
        string prompt = string.Concat(Enumerable.Repeat("Summarize this ticket:\r\n\tline\u0001\n", 100));
        Assert.True(prompt.Length > 1_024);
        var assistant = new CachedAssistant(_host.Runtime);

        await assistant.AskAsync(prompt);
        await assistant.AskAsync(prompt);

        Assert.Equal(1, assistant.Executions);
    }

    [Fact]
    public async Task Two_users_asking_the_same_question_never_get_each_others_answer()
    {
        var assistant = new CachedAssistant(_host.Runtime)
        {
            Answer = static (question, _) => Task.FromResult(new CachedReply(LlmCallContext.Current!.User + ": " + question)),
        };

        using (LlmCallContext.Begin(user: "ada"))
        {
            await assistant.AskAsync("what is my balance?");
        }

        CachedReply grace;
        using (LlmCallContext.Begin(user: "grace"))
        {
            grace = await assistant.AskAsync("what is my balance?");
        }

        CachedReply adaAgain;
        using (LlmCallContext.Begin(user: "ada"))
        {
            adaAgain = await assistant.AskAsync("what is my balance?");
        }

        Assert.Equal("grace: what is my balance?", grace.Text);
        Assert.Equal("ada: what is my balance?", adaAgain.Text);
        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public async Task A_build_with_another_cache_version_reads_nothing_the_previous_build_stored()
    {
        // Two builds of one method, as a deploy that changed its signature or result type sees them: same scene, same
        // key, same cache, different versions.
        var before = new GuardedMethod<string>("cache_deploy", timeoutMs: 0, maxRetries: 0, retryDelayMs: 0, cacheSeconds: 60, cacheVersion: "0000000000000001");
        var after = new GuardedMethod<string>("cache_deploy", timeoutMs: 0, maxRetries: 0, retryDelayMs: 0, cacheSeconds: 60, cacheVersion: "0000000000000002");
        int executions = 0;

        Task<string> Ask(GuardedMethod<string> method, string answer) => method.For(_host.Runtime).RunAsync(
            "cache_deploy:q",
            answer,
            attempt: (text, _) => { Interlocked.Increment(ref executions); return new ValueTask<string>(text); },
            fallback: null,
            merge: null,
            CancellationToken.None);

        Assert.Equal("old shape", await Ask(before, "old shape"));
        Assert.Equal("new shape", await Ask(after, "new shape"));
        Assert.Equal("new shape", await Ask(after, "unused"));
        Assert.Equal(2, executions);
    }

    [Fact]
    public async Task A_generic_cached_method_keeps_the_answers_of_each_type_argument_apart()
    {
        var assistant = new CachedAssistant(_host.Runtime);

        string invoice = await assistant.DescribeAsync<Uri>("what is it?");
        string receipt = await assistant.DescribeAsync<Version>("what is it?");
        string invoiceAgain = await assistant.DescribeAsync<Uri>("what is it?");

        Assert.Equal("Uri: what is it?", invoice);
        Assert.Equal("Version: what is it?", receipt);
        Assert.Equal(invoice, invoiceAgain);
        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public async Task Prompts_cut_inside_different_emoji_are_different_keys()
    {
        var assistant = new CachedAssistant(_host.Runtime);

        // Lone high surrogates: both would be U+FFFD in UTF-8, and share an entry if the key were hashed as UTF-8.
        CachedReply grin = await assistant.AskAsync("rate us \uD83D");
        CachedReply other = await assistant.AskAsync("rate us \uD83E");

        Assert.NotEqual(grin, other);
        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public async Task Concurrent_misses_on_one_key_run_one_execution()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var assistant = new CachedAssistant(_host.Runtime)
        {
            Answer = async (question, _) =>
            {
                started.TrySetResult();
                await release.Task;
                return new CachedReply("answer to " + question);
            },
        };

        Task<CachedReply> first = Task.Run(() => assistant.AskAsync("q"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Every later caller misses the cache while the execution runs and joins it, or, arriving after it stored its
        // answer, is served from the cache: either way the core has run once.
        Task<CachedReply>[] others = Enumerable.Range(0, 8).Select(_ => Task.Run(() => assistant.AskAsync("q"))).ToArray();
        release.SetResult();
        CachedReply[] answers = await Task.WhenAll(others.Append(first)).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, assistant.Executions);
        Assert.All(answers, answer => Assert.Equal("answer to q", answer.Text));
    }

    [Fact]
    public async Task A_caller_that_missed_just_before_the_answer_was_stored_and_arrives_after_the_execution_ended_gets_the_stored_answer()
    {
        var gated = new FirstReadHeldCache(_host.Cache);
        using var runtime = new GuardRuntime(_host.Time) { HybridCache = gated };
        var assistant = new CachedAssistant(runtime);

        // The late caller reads the cache first and misses, and is held before it reaches the singleflight...
        Task<CachedReply> late = assistant.AskAsync("q");
        await gated.FirstReadMissed.WaitAsync(TimeSpan.FromSeconds(10));

        // ...while another caller misses, executes, stores the answer and completes.
        CachedReply stored = await assistant.AskAsync("q");
        gated.ReleaseFirstRead();

        Assert.Equal(stored, await late.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, assistant.Executions);
    }

    /// <summary>A real HybridCache whose first read is answered as it was, but handed back only when released.</summary>
    private sealed class FirstReadHeldCache(HybridCache inner) : HybridCache
    {
        private readonly TaskCompletionSource _missed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _reads;

        public Task FirstReadMissed => _missed.Task;

        public void ReleaseFirstRead() => _release.TrySetResult();

        public override async ValueTask<T> GetOrCreateAsync<TState, T>(
            string key,
            TState state,
            Func<TState, CancellationToken, ValueTask<T>> factory,
            HybridCacheEntryOptions? options = null,
            IEnumerable<string>? tags = null,
            CancellationToken cancellationToken = default)
        {
            T value = await inner.GetOrCreateAsync(key, state, factory, options, tags, cancellationToken);
            if (Interlocked.Increment(ref _reads) == 1)
            {
                _missed.TrySetResult();
                await _release.Task;
            }

            return value;
        }

        public override ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default) =>
            inner.SetAsync(key, value, options, tags, cancellationToken);

        public override ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default) => inner.RemoveAsync(key, cancellationToken);

        public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default) => inner.RemoveByTagAsync(tag, cancellationToken);
    }

    [Fact]
    public async Task Concurrent_callers_on_random_keys_run_one_execution_per_key_under_stress()
    {
        var random = new Random(1234);
        var assistant = new CachedAssistant(_host.Runtime)
        {
            Answer = static async (question, _) =>
            {
                await Task.Yield();
                return new CachedReply("answer to " + question);
            },
        };

        const int Rounds = 200;
        var keys = new HashSet<string>();
        var calls = new List<Task<CachedReply>>();
        for (int round = 0; round < Rounds; round++)
        {
            string question = "q" + random.Next(20);
            keys.Add(question);
            calls.Add(Task.Run(() => assistant.AskAsync(question)));
        }

        CachedReply[] answers = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(keys.Count, assistant.Executions);
        Assert.All(answers, answer => Assert.StartsWith("answer to q", answer.Text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task More_keys_than_the_runtime_remembers_each_get_their_own_answer()
    {
        // The runtime remembers the cache keys of the last 64 guard keys per method; 200 keys share those slots.
        var assistant = new CachedAssistant(_host.Runtime);
        string[] questions = Enumerable.Range(0, 200).Select(i => "question " + i).ToArray();

        foreach (string question in questions)
        {
            Assert.Equal("answer to " + question, (await assistant.AskAsync(question)).Text);
        }

        foreach (string question in questions.Reverse())
        {
            Assert.Equal("answer to " + question, (await assistant.AskAsync(question)).Text);
        }

        Assert.Equal(200, assistant.Executions);
    }

    [Fact]
    public async Task Concurrent_callers_over_more_keys_than_the_runtime_remembers_get_their_own_answers_under_stress()
    {
        var assistant = new CachedAssistant(_host.Runtime);
        const int Threads = 8;
        const int CallsPerThread = 250;
        var workers = new Task<int>[Threads];
        for (int worker = 0; worker < Threads; worker++)
        {
            int seed = worker;
            workers[worker] = Task.Run(async () =>
            {
                var random = new Random(seed);
                int wrong = 0;
                for (int call = 0; call < CallsPerThread; call++)
                {
                    string question = "q" + random.Next(300);
                    if ((await assistant.AskAsync(question)).Text != "answer to " + question)
                    {
                        wrong++;
                    }
                }

                return wrong;
            });
        }

        int[] wrongAnswers = await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(wrongAnswers, wrong => Assert.Equal(0, wrong));
    }

    [Fact]
    public async Task A_scene_configured_with_CacheSeconds_0_caches_nothing()
    {
        var options = new LlmGuardOptions();
        options.Scenes["cache_ask"] = new LlmSceneOptions { CacheSeconds = 0 };
        using var host = new CacheTestHost(options);
        var assistant = new CachedAssistant(host.Runtime);

        await assistant.AskAsync("q");
        await assistant.AskAsync("q");

        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public async Task A_caller_served_from_the_cache_is_counted_with_outcome_cached()
    {
        using var calls = new MetricCollector<long>(_host.Meters, "LlmGuard", "llmguard.calls");
        var assistant = new CachedAssistant(_host.Runtime);

        await assistant.AskAsync("q");
        await assistant.AskAsync("q");

        IReadOnlyList<CollectedMeasurement<long>> measured = calls.GetMeasurementSnapshot();
        Assert.Equal(["executed", "cached"], measured.Select(m => (string)m.Tags["llmguard.outcome"]!).ToArray());
        Assert.All(measured, m => Assert.Equal("success", m.Tags["llmguard.result"]));
    }

    [Fact]
    public async Task A_caller_served_from_the_cache_counts_the_tokens_of_the_stored_execution_as_saved()
    {
        using var saved = new MetricCollector<long>(_host.Meters, "LlmGuard", "llmguard.tokens.saved");
        var assistant = new CachedAssistant(_host.Runtime);

        await assistant.AskCountedAsync("q");
        await assistant.AskCountedAsync("q");

        CollectedMeasurement<long> measurement = Assert.Single(saved.GetMeasurementSnapshot());
        Assert.Equal(120, measurement.Value);
        Assert.Equal("cached", measurement.Tags["llmguard.outcome"]);
    }
}
