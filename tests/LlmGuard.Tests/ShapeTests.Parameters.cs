using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded.Shapes;

namespace LlmGuard.Tests;

/// <summary>Parameter shapes: C# keywords as names, optional parameters, the cancellation token in every position.</summary>
public sealed partial class ShapeTests
{
    [Fact]
    public async Task Parameters_named_with_keywords_are_passed_to_the_core_and_form_the_implicit_key()
    {
        var shapes = new ParameterShapes(_runtime, _model);

        Task<string> first = shapes.RouteAsync("billing", "refund");
        Task<string> second = shapes.RouteAsync("billing", "refund");
        Task<string> other = shapes.RouteAsync("billing", "complaint");
        await _model.AnswerTwoAsync("billing|refund", "finance", "support");

        Assert.Equal("finance", await first.Within());
        Assert.Equal("finance", await second.Within());
        Assert.Equal("support", await other.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task An_explicit_key_can_name_a_parameter_called_with_a_keyword()
    {
        var shapes = new ParameterShapes(_runtime, _model);

        Task<string> first = shapes.RouteByEventAsync("billing", "refund");
        Task<string> second = shapes.RouteByEventAsync("sales", "refund");
        ModelCall call = await _model.NextCallAsync();
        call.Succeed("finance");

        Assert.Equal("billing|refund", call.Prompt);
        Assert.Equal("finance", await first.Within());
        Assert.Equal("finance", await second.Within());
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_call_that_leaves_out_optional_arguments_shares_with_a_call_that_passes_their_defaults()
    {
        var shapes = new ParameterShapes(_runtime, _model);

        Task<string> defaults = shapes.TranslateAsync("hello");
        Task<string> explicitDefaults = shapes.TranslateAsync("hello", "en", 1);
        Task<string> french = shapes.TranslateAsync("hello", language: "fr");
        ModelCall a = await _model.NextCallAsync();
        ModelCall b = await _model.NextCallAsync();
        (a.Prompt == "hello|en|1" ? a : b).Succeed("hello");
        (a.Prompt == "hello|en|1" ? b : a).Succeed("bonjour");

        Assert.Equal("hello", await defaults.Within());
        Assert.Equal("hello", await explicitDefaults.Within());
        Assert.Equal("bonjour", await french.Within());
        Assert.Equal(new[] { "hello|en|1", "hello|fr|1" }, new[] { a.Prompt, b.Prompt }.Order(StringComparer.Ordinal));
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Theory]
    [InlineData("first")]
    [InlineData("middle")]
    [InlineData("last")]
    public async Task A_cancellation_token_in_any_position_is_the_callers_own_and_never_part_of_the_key(string position)
    {
        var shapes = new ParameterShapes(_runtime, _model);
        Func<CancellationToken, Task<string>> ask = position switch
        {
            "first" => token => shapes.TokenFirstAsync(token, "s1", "q"),
            "middle" => token => shapes.TokenMiddleAsync("s1", token, "q"),
            _ => token => shapes.TokenLastAsync("s1", "q", token),
        };
        using var leaving = new CancellationTokenSource();
        using var staying = new CancellationTokenSource();

        Task<string> cancelled = ask(leaving.Token);
        Task<string> waiting = ask(staying.Token);
        ModelCall call = await _model.NextCallAsync();
        leaving.Cancel();

        OperationCanceledException failure = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.Within());
        Assert.Equal(leaving.Token, failure.CancellationToken);
        Assert.Equal("s1|q", call.Prompt);
        Assert.False(call.Token.IsCancellationRequested);

        // The last waiter leaving cancels the token the core received, wherever the parameter stands.
        staying.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Within());
        await call.Ended;
        Assert.True(call.Token.IsCancellationRequested);
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }
}
