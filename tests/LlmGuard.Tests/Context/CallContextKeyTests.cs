using System;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Context;

/// <summary>Keys with <c>{$tenant}</c> and <c>{$conversation}</c>: calls share an execution only within one call context.</summary>
public sealed class CallContextKeyTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();
    private readonly GuardRuntime _runtime;
    private readonly TenantAssistant _assistant;

    public CallContextKeyTests()
    {
        _runtime = new GuardRuntime(_time);
        _assistant = new TenantAssistant(_runtime, _model);
    }

    public void Dispose() => Assert.Equal(0, _runtime.InFlightCount);

    // The scope ends as soon as the call has returned its task, as a request's would while the model still runs:
    // the key is read at the call, so what happens to the context afterwards cannot move the call to another key.
    private Task<Reply> AskAs(string? tenant, string question)
    {
        using LlmCallContextScope scope = LlmCallContext.Begin(tenant: tenant);
        return _assistant.AskAsync(question);
    }

    private Task<Reply> ReplyAs(string tenant, string conversation, string message)
    {
        using LlmCallContextScope scope = LlmCallContext.Begin(tenant: tenant, conversation: conversation);
        return _assistant.ReplyAsync(message);
    }

    [Fact]
    public async Task Concurrent_calls_in_one_tenant_share_one_execution()
    {
        Task<Reply> first = AskAs("t1", "opening hours?");
        Task<Reply> second = AskAs("t1", "opening hours?");
        ModelCall call = await _model.NextCallAsync();
        call.Succeed("9 to 5");

        Assert.Same(await first.Within(), await second.Within());
        Assert.Equal("t1|opening hours?", call.Prompt);
        Assert.Equal(1, _model.Calls);
    }

    [Fact]
    public async Task Concurrent_calls_in_different_tenants_with_equal_arguments_run_separate_executions_in_their_own_context()
    {
        Task<Reply> first = AskAs("t1", "opening hours?");
        Task<Reply> second = AskAs("t2", "opening hours?");
        await _model.AnswerTwoAsync("t1|opening hours?", "t1 opens at 9", "t2 opens at 8");

        Assert.Equal("t1 opens at 9", (await first.Within()).Text);
        Assert.Equal("t2 opens at 8", (await second.Within()).Text);
        Assert.Equal(2, _model.Calls);
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData(null, "t1")]
    [InlineData("", "t1")]
    [InlineData("a:b", "a")]
    public async Task A_missing_tenant_an_empty_tenant_and_tenants_containing_separators_never_share_a_key(string? firstTenant, string secondTenant)
    {
        Task<Reply> first = AskAs(firstTenant, "q");
        Task<Reply> second = AskAs(secondTenant, "q");
        ModelCall a = await _model.NextCallAsync();
        ModelCall b = await _model.NextCallAsync();
        a.Succeed(a.Prompt);
        b.Succeed(b.Prompt);

        Assert.Equal(firstTenant + "|q", (await first.Within()).Text);
        Assert.Equal(secondTenant + "|q", (await second.Within()).Text);
        Assert.Equal(2, _model.Calls);
    }

    [Fact]
    public async Task A_call_outside_any_context_does_not_join_an_execution_started_in_a_tenant()
    {
        Task<Reply> inTenant = AskAs("t1", "q");
        ModelCall tenantCall = await _model.NextCallAsync();
        Task<Reply> outside = _assistant.AskAsync("q");
        ModelCall outsideCall = await _model.NextCallAsync();
        tenantCall.Succeed("for t1");
        outsideCall.Succeed("for nobody");

        Assert.Equal("|q", outsideCall.Prompt);
        Assert.Equal("for t1", (await inTenant.Within()).Text);
        Assert.Equal("for nobody", (await outside.Within()).Text);
    }

    [Fact]
    public async Task A_merge_window_keyed_by_conversation_merges_within_a_conversation_and_never_across()
    {
        Task<Reply> c1First = ReplyAs("t1", "c1", "hello");
        Task<Reply> c2 = ReplyAs("t1", "c2", "hi there");
        Task<Reply> c1Latest = ReplyAs("t1", "c1", "are you there?");
        _time.Advance(TimeSpan.FromMilliseconds(1000));
        await _model.AnswerTwoAsync("c1|are you there?", "yes, c1", "yes, c2");

        Reply c1Reply = await c1First.Within();
        Assert.Same(c1Reply, await c1Latest.Within());
        Assert.Equal("yes, c1", c1Reply.Text);
        Assert.Equal("yes, c2", (await c2.Within()).Text);
        Assert.Equal(2, _model.Calls);
    }
}
