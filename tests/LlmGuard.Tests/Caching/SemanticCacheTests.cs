using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Infrastructure;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace LlmGuard.Tests.Caching;

/// <summary>
/// The semantic cache through a real HybridCache and a deterministic embedding model: an execution that finds no exact
/// answer serves one stored for a similar text in the same scope, and never across users, tenants or other key parts;
/// the threshold decides what "similar" means, negations included.
/// </summary>
public sealed class SemanticCacheTests : IDisposable
{
    // Six words, then the same six and one more: 6 / √42 ≈ 0.926, just above the default threshold.
    private const string Password = "how do I reset my password";
    private const string PasswordPlease = "how do I reset my password please";

    private readonly BagOfWordsEmbeddingGenerator _embeddings = new();
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }
    }

    [Fact]
    public async Task A_paraphrase_above_the_threshold_is_answered_from_the_cache_without_running_the_core()
    {
        Assert.InRange(BagOfWordsEmbeddingGenerator.Similarity(Password, PasswordPlease), 0.92f, 0.93f);
        var assistant = new SemanticAssistant(Host(Semantic()).Runtime);

        await assistant.AskAsync(Password);
        CachedReply served = await assistant.AskAsync(PasswordPlease);

        Assert.Equal("answer to " + Password, served.Text);
        Assert.Equal(1, assistant.Executions);
        Assert.Equal(2, _embeddings.Calls);
    }

    [Fact]
    public async Task A_text_below_the_threshold_runs_the_core()
    {
        const string Email = "how do I change my email address";
        Assert.True(BagOfWordsEmbeddingGenerator.Similarity(Password, Email) < 0.92f);
        var assistant = new SemanticAssistant(Host(Semantic()).Runtime);

        await assistant.AskAsync(Password);
        CachedReply answer = await assistant.AskAsync(Email);

        Assert.Equal("answer to " + Email, answer.Text);
        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public void Cancel_my_order_and_dont_cancel_my_order_are_0_866_similar()
    {
        // Three shared words of three and four: 3 / √12. A real embedding model puts such pairs close too, because
        // they are about the same thing; "don't" is one word among four.
        Assert.Equal(3 / MathF.Sqrt(12), BagOfWordsEmbeddingGenerator.Similarity("cancel my order", "don't cancel my order"), 5);
    }

    [Fact]
    public async Task At_the_default_threshold_dont_cancel_my_order_is_not_served_the_answer_to_cancel_my_order()
    {
        var assistant = new SemanticAssistant(Host(Semantic()).Runtime);

        await assistant.AskAsync("cancel my order");
        CachedReply answer = await assistant.AskAsync("don't cancel my order");

        Assert.Equal("answer to don't cancel my order", answer.Text);
        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public async Task At_threshold_0_8_dont_cancel_my_order_is_served_the_answer_to_cancel_my_order()
    {
        // The failure mode a low threshold buys: the opposite request gets the stored answer.
        var assistant = new SemanticAssistant(Host(Semantic(threshold: 0.8)).Runtime);

        await assistant.AskAsync("cancel my order");
        CachedReply answer = await assistant.AskAsync("don't cancel my order");

        Assert.Equal("answer to cancel my order", answer.Text);
        Assert.Equal(1, assistant.Executions);
    }

    [Fact]
    public async Task A_reload_keeps_the_stored_texts_and_applies_the_new_threshold_to_the_next_lookup()
    {
        CacheTestHost host = Host(Semantic());
        var assistant = new SemanticAssistant(host.Runtime);
        await assistant.AskAsync("cancel my order");

        host.Runtime.Reconfigure(Semantic(threshold: 0.8));
        CachedReply answer = await assistant.AskAsync("don't cancel my order");

        Assert.Equal("answer to cancel my order", answer.Text);
        Assert.Equal(1, assistant.Executions);
    }

    [Fact]
    public async Task Another_user_is_never_served_a_similar_question_asked_by_someone_else()
    {
        var assistant = new SemanticAssistant(Host(Semantic()).Runtime)
        {
            Answer = static (question, _) => Task.FromResult(new CachedReply(LlmCallContext.Current!.User + ": " + question)),
        };

        using (LlmCallContext.Begin(user: "ada"))
        {
            await assistant.AskAsync(Password);
        }

        CachedReply grace;
        using (LlmCallContext.Begin(user: "grace"))
        {
            grace = await assistant.AskAsync(PasswordPlease);
        }

        CachedReply adaParaphrase;
        using (LlmCallContext.Begin(user: "ada"))
        {
            adaParaphrase = await assistant.AskAsync(PasswordPlease);
        }

        Assert.Equal("grace: " + PasswordPlease, grace.Text);
        Assert.Equal("ada: " + Password, adaParaphrase.Text);
        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public async Task Another_tenant_or_topic_is_never_served_and_the_same_tenant_and_topic_is()
    {
        var assistant = new SemanticAssistant(Host(Semantic()).Runtime);
        async Task<CachedReply> Ask(string tenant, string topic, string question)
        {
            using LlmCallContextScope scope = LlmCallContext.Begin(tenant: tenant);
            return await assistant.AskAboutAsync(topic, question);
        }

        await Ask("acme", "billing", Password);
        CachedReply otherTopic = await Ask("acme", "shipping", PasswordPlease);
        CachedReply otherTenant = await Ask("globex", "billing", PasswordPlease);
        CachedReply sameScope = await Ask("acme", "billing", PasswordPlease);

        Assert.Equal("answer to shipping: " + PasswordPlease, otherTopic.Text);
        Assert.Equal("answer to billing: " + PasswordPlease, otherTenant.Text);
        Assert.Equal("answer to billing: " + Password, sameScope.Text);
        Assert.Equal(3, assistant.Executions);
    }

    [Fact]
    public async Task A_stored_answer_is_served_until_CacheSeconds_have_passed_on_the_runtimes_clock()
    {
        CacheTestHost host = Host(Semantic());
        var assistant = new SemanticAssistant(host.Runtime);
        await assistant.AskAsync(Password);

        host.Time.Advance(TimeSpan.FromSeconds(59));
        await assistant.AskAsync(PasswordPlease);
        Assert.Equal(1, assistant.Executions);

        host.Time.Advance(TimeSpan.FromSeconds(2));
        CachedReply expired = await assistant.AskAsync("how do I reset my password today");

        Assert.Equal("answer to how do I reset my password today", expired.Text);
        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public async Task Beyond_SemanticMaxEntries_the_oldest_text_is_evicted_and_newer_ones_still_answer()
    {
        const string Invoice = "where can I download my last invoice";
        const string Support = "what time does support open on sundays";
        var assistant = new SemanticAssistant(Host(Semantic(maxEntries: 2)).Runtime);
        await assistant.AskAsync(Password);
        await assistant.AskAsync(Invoice);
        await assistant.AskAsync(Support);

        CachedReply evicted = await assistant.AskAsync(PasswordPlease);
        CachedReply kept = await assistant.AskAsync(Support + " please");

        Assert.Equal("answer to " + PasswordPlease, evicted.Text);
        Assert.Equal("answer to " + Support, kept.Text);
        Assert.Equal(4, assistant.Executions);
    }

    [Fact]
    public async Task A_failing_embedding_model_runs_the_core_answers_the_caller_and_logs_a_warning()
    {
        var logs = new FakeLogCollector();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(new FakeLoggerProvider(logs)));
        bool failing = true;
        _embeddings.BeforeEmbedding = (_, _) => Volatile.Read(ref failing) ? throw new InvalidOperationException("embedding model down") : Task.CompletedTask;
        var assistant = new SemanticAssistant(Host(Semantic(), loggerFactory).Runtime);

        CachedReply answer = await assistant.AskAsync(Password);

        Assert.Equal("answer to " + Password, answer.Text);
        FakeLogRecord warning = Assert.Single(logs.GetSnapshot(), record => record.Id.Id == 15);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal("SemanticEmbeddingFailed", warning.Id.Name);
        Assert.IsType<InvalidOperationException>(warning.Exception);

        // Nothing was indexed without an embedding, so a paraphrase runs the core once the model is back.
        Volatile.Write(ref failing, false);
        await assistant.AskAsync(PasswordPlease);
        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public async Task A_hanging_embedding_model_is_given_up_after_the_per_attempt_timeout_and_the_core_answers()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _embeddings.BeforeEmbedding = async (_, token) =>
        {
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, token);
        };
        LlmGuardOptions options = Semantic();
        options.Scenes[SemanticAssistant.AskScene].TimeoutMs = 1_000;
        CacheTestHost host = Host(options);
        var assistant = new SemanticAssistant(host.Runtime);

        Task<CachedReply> call = assistant.AskAsync(Password);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        host.Time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(call.IsCompleted);
        host.Time.Advance(TimeSpan.FromMilliseconds(1));
        CachedReply answer = await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("answer to " + Password, answer.Text);
        Assert.Equal(1, assistant.Executions);
    }

    [Fact]
    public async Task A_failing_embedding_model_with_nothing_observing_still_answers_the_caller()
    {
        _embeddings.BeforeEmbedding = static (_, _) => throw new InvalidOperationException("embedding model down");
        var assistant = new SemanticAssistant(Host(Semantic()).Runtime);

        CachedReply answer = await assistant.AskAsync(Password);
        CachedReply repeat = await assistant.AskAsync(Password);

        Assert.Equal("answer to " + Password, answer.Text);
        Assert.Equal(answer, repeat);
        Assert.Equal(1, assistant.Executions);
    }

    [Fact]
    public async Task Concurrent_identical_callers_share_one_embedding_call_and_one_execution()
    {
        const int Others = 8;
        var entered = new TaskCompletionSource<IExecutingFlight?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _embeddings.BeforeEmbedding = async (_, _) =>
        {
            entered.TrySetResult(ExecutingFlights.Innermost);
            await release.Task;
        };
        var assistant = new SemanticAssistant(Host(Semantic()).Runtime);

        Task<CachedReply> first = Task.Run(() => assistant.AskAsync(Password));
        IExecutingFlight flight = Assert.IsAssignableFrom<IExecutingFlight>(await entered.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Task<CachedReply>[] others = Enumerable.Range(0, Others).Select(_ => Task.Run(() => assistant.AskAsync(Password))).ToArray();

        // Every caller waits for the execution that is embedding the text before it may go on.
        Assert.True(SpinWait.SpinUntil(() => flight.Callers == Others + 1, TimeSpan.FromSeconds(10)), $"{flight.Callers} callers joined.");
        release.SetResult();
        CachedReply[] answers = await Task.WhenAll(others.Append(first)).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, _embeddings.Calls);
        Assert.Equal(1, assistant.Executions);
        Assert.All(answers, answer => Assert.Equal("answer to " + Password, answer.Text));
    }

    [Fact]
    public async Task A_merge_windows_execution_looks_up_and_stores_like_a_singleflight_execution()
    {
        CacheTestHost host = Host(Semantic());
        var assistant = new SemanticAssistant(host.Runtime);

        Task<CachedReply> first = assistant.AskMergedAsync(Password);
        CloseWindow();
        await first.WaitAsync(TimeSpan.FromSeconds(10));
        Task<CachedReply> paraphrase = assistant.AskMergedAsync(PasswordPlease);
        CloseWindow();
        CachedReply served = await paraphrase.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("answer to " + Password, served.Text);
        Assert.Equal(1, assistant.Executions);
        Assert.Equal(2, _embeddings.Calls);

        // The call first misses the exact cache, then joins a window: the window's timer starts only once it has joined.
        void CloseWindow()
        {
            Assert.True(SpinWait.SpinUntil(() => host.Runtime.InFlightCount == 1, TimeSpan.FromSeconds(10)));
            host.Time.Advance(TimeSpan.FromMilliseconds(100));
        }
    }

    [Fact]
    public async Task Concurrent_callers_on_random_texts_run_the_core_once_per_text_under_stress()
    {
        var random = new Random(1234);
        var assistant = new SemanticAssistant(Host(Semantic()).Runtime)
        {
            Answer = static async (question, _) =>
            {
                await Task.Yield();
                return new CachedReply("answer to " + question);
            },
        };
        _embeddings.BeforeEmbedding = static async (_, _) => await Task.Yield();

        // Distinct enough never to answer each other: "question 3 about topic 3" and "question 4 about topic 4" are 0.5 similar.
        const int Rounds = 200;
        var texts = new HashSet<string>();
        var calls = new List<Task<CachedReply>>();
        for (int round = 0; round < Rounds; round++)
        {
            int n = random.Next(20);
            string question = $"question {n} about topic {n}";
            texts.Add(question);
            calls.Add(Task.Run(() => assistant.AskAsync(question)));
        }

        CachedReply[] answers = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));

        // Each text: one core execution; every other caller joined it or found its exact answer. A caller that missed
        // the exact cache just before the answer was stored, and came to singleflight just after the execution ended,
        // starts another execution: that one embeds the text again and is answered by the semantic entry, not the core.
        Assert.Equal(texts.Count, assistant.Executions);
        Assert.InRange(_embeddings.Calls, texts.Count, Rounds);
        Assert.All(answers, answer => Assert.Matches("^answer to question (\\d+) about topic \\1$", answer.Text));
    }

    [Fact]
    public async Task A_fallback_answer_is_not_indexed()
    {
        var assistant = new SemanticAssistant(Host(Semantic()).Runtime) { Answer = static (_, _) => throw new InvalidOperationException("model down") };
        Assert.Equal("sorry", (await assistant.AskOrApologizeAsync(Password)).Text);

        assistant.Answer = static (question, _) => Task.FromResult(new CachedReply("answer to " + question));
        CachedReply recovered = await assistant.AskOrApologizeAsync(PasswordPlease);

        Assert.Equal("answer to " + PasswordPlease, recovered.Text);
        Assert.Equal(2, assistant.Executions);
    }

    [Fact]
    public async Task A_caller_answered_by_the_semantic_cache_is_counted_as_cached_with_the_stored_tokens_saved()
    {
        CacheTestHost host = Host(Semantic());
        using var calls = new MetricCollector<long>(host.Meters, "LlmGuard", "llmguard.calls");
        using var executions = new MetricCollector<long>(host.Meters, "LlmGuard", "llmguard.executions");
        using var saved = new MetricCollector<long>(host.Meters, "LlmGuard", "llmguard.tokens.saved");
        var assistant = new SemanticAssistant(host.Runtime);

        await assistant.AskCountedAsync(Password);
        await assistant.AskCountedAsync(PasswordPlease);

        Assert.Equal(["executed", "cached"], calls.GetMeasurementSnapshot().Select(m => (string)m.Tags["llmguard.outcome"]!).ToArray());
        Assert.Single(executions.GetMeasurementSnapshot());
        CollectedMeasurement<long> tokens = Assert.Single(saved.GetMeasurementSnapshot());
        Assert.Equal(120, tokens.Value);
        Assert.Equal("cached", tokens.Tags["llmguard.outcome"]);
    }

    [Fact]
    public async Task A_scene_that_turns_the_semantic_cache_on_without_an_embedding_generator_logs_a_warning_and_caches_exact_keys_only()
    {
        var logs = new FakeLogCollector();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(new FakeLoggerProvider(logs)));
        var host = new CacheTestHost(Semantic(), embeddingGenerator: null, loggerFactory);
        _owned.Add(host);
        var assistant = new SemanticAssistant(host.Runtime);

        await assistant.AskAsync(Password);
        await assistant.AskAsync(Password);
        await assistant.AskAsync(PasswordPlease);

        Assert.Equal(2, assistant.Executions);
        FakeLogRecord warning = Assert.Single(logs.GetSnapshot(), record => record.Id.Id == 16);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(SemanticAssistant.AskScene, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scene_that_does_not_turn_the_semantic_cache_on_never_embeds()
    {
        var assistant = new SemanticAssistant(Host(options: null).Runtime);

        await assistant.AskAsync(Password);
        await assistant.AskAsync(Password);
        await assistant.AskAsync(PasswordPlease);

        Assert.Equal(2, assistant.Executions);
        Assert.Equal(0, _embeddings.Calls);
    }

    [Fact]
    public async Task A_default_semantic_query_is_refused_rather_than_looked_up_without_a_scope()
    {
        var method = new GuardedMethod<string>("semantic_default", timeoutMs: 0, maxRetries: 0, retryDelayMs: 0, cacheSeconds: 60, cacheVersion: "0000000000000001");

        ArgumentException refused = await Assert.ThrowsAsync<ArgumentException>(() => method.For(Host(Semantic()).Runtime).RunAsync(
            "semantic_default:q",
            "q",
            attempt: static (text, _) => new ValueTask<string>(text),
            fallback: null,
            merge: null,
            semantic: default,
            CancellationToken.None));

        Assert.Equal("semantic", refused.ParamName);
    }

    private static LlmGuardOptions Semantic(double? threshold = null, int? maxEntries = null)
    {
        var options = new LlmGuardOptions();
        foreach (string scene in new[] { SemanticAssistant.AskScene, SemanticAssistant.TopicScene, SemanticAssistant.FallbackScene, SemanticAssistant.TokensScene, SemanticAssistant.MergedScene })
        {
            options.Scenes[scene] = new LlmSceneOptions { SemanticCache = true, SemanticThreshold = threshold, SemanticMaxEntries = maxEntries };
        }

        return options;
    }

    private CacheTestHost Host(LlmGuardOptions? options, ILoggerFactory? loggerFactory = null)
    {
        var host = new CacheTestHost(options, _embeddings, loggerFactory);
        _owned.Add(host);
        return host;
    }
}
