using System;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests;

/// <summary>Guarded interfaces, readonly structs and generic methods behave like guarded class methods.</summary>
public sealed class NewShapeTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();
    private readonly GuardRuntime _runtime;

    public NewShapeTests()
    {
        _runtime = new GuardRuntime(_time);
    }

    public void Dispose() => Assert.Equal(0, _runtime.InFlightCount);

    [Fact]
    public async Task Implementations_of_a_guarded_interface_on_one_runtime_share_executions()
    {
        ITicketClassifier first = new ModelTicketClassifier(_runtime, _model);
        ITicketClassifier second = new ModelTicketClassifier(_runtime, _model);

        Task<string> a = first.ClassifyAsync("t-1", "printer on fire");
        Task<string> b = second.ClassifyAsync("t-1", "printer still on fire");
        ModelCall call = await _model.NextCallAsync();
        call.Succeed("hardware");

        Assert.Equal("t-1|printer on fire", call.Prompt);
        Assert.Equal("hardware", await a.Within());
        Assert.Equal("hardware", await b.Within());
        Assert.Equal(1, _model.Calls);
    }

    [Fact]
    public async Task Implementations_of_a_guarded_interface_on_different_runtimes_never_share()
    {
        var otherRuntime = new GuardRuntime(_time);
        ITicketClassifier first = new ModelTicketClassifier(_runtime, _model);
        ITicketClassifier second = new ModelTicketClassifier(otherRuntime, _model);

        Task<string> a = first.ClassifyAsync("t-1", "x");
        Task<string> b = second.ClassifyAsync("t-1", "x");
        (await _model.NextCallAsync()).Succeed("one");
        (await _model.NextCallAsync()).Succeed("two");

        Assert.NotEqual(await a.Within(), await b.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, otherRuntime.InFlightCount);
    }

    [Fact]
    public async Task Copies_of_a_readonly_struct_share_executions_on_their_runtime()
    {
        var client = new TenantClient(_runtime, _model, "acme");
        TenantClient copy = client;

        Task<string> a = client.AskAsync("status?");
        Task<string> b = copy.AskAsync("status?");
        (await _model.NextCallAsync()).Succeed("green");

        Assert.Equal("green", await a.Within());
        Assert.Equal("green", await b.Within());
        Assert.Equal(1, _model.Calls);
    }

    [Fact]
    public async Task The_type_argument_of_a_generic_guarded_method_is_part_of_the_identity_of_its_state()
    {
        var extractor = new Extractor(_runtime, _model);

        Task<int> number = extractor.ExtractAsync<int>("doc-1");
        Task<int> sameNumber = extractor.ExtractAsync<int>("doc-1");
        Task<decimal> amount = extractor.ExtractAsync<decimal>("doc-1");
        ModelCall first = await _model.NextCallAsync();
        ModelCall second = await _model.NextCallAsync();
        (first.Prompt.EndsWith("Int32", StringComparison.Ordinal) ? first : second).Succeed("42");
        (first.Prompt.EndsWith("Int32", StringComparison.Ordinal) ? second : first).Succeed("12.50");

        Assert.Equal(42, await number.Within());
        Assert.Equal(42, await sameNumber.Within());
        Assert.Equal(12.50m, await amount.Within());
        Assert.Equal(2, _model.Calls);
    }

    [Fact]
    public async Task A_generic_fallback_answers_with_the_callers_type()
    {
        var extractor = new Extractor(_runtime, _model);
        Task<int> number = extractor.ExtractAsync<int>("doc-2");
        (await _model.NextCallAsync()).Succeed("not a number");

        Assert.Equal(0, await number.Within());
    }
}
