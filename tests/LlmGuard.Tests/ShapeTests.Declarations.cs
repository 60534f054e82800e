using System;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded.Shapes;

namespace LlmGuard.Tests;

/// <summary>
/// Declaration shapes: overloads, several methods and partial declarations in several files, the global namespace,
/// every accessibility, and code with nullable annotations disabled.
/// </summary>
public sealed partial class ShapeTests
{
    [Fact]
    public async Task Overloads_have_their_own_state_even_when_their_keys_render_alike()
    {
        var catalog = new Catalog(_runtime, _model);

        // Both render "Catalog.LookupAsync:42".
        Task<string> byText = catalog.LookupAsync("42");
        Task<string> sameText = catalog.LookupAsync("42");
        Task<string> byNumber = catalog.LookupAsync(42);
        Task<string> sameNumber = catalog.LookupAsync(42);
        await _model.AnswerTwoAsync("text|42", "from text", "from number");

        Assert.Equal("from text", await byText.Within());
        Assert.Equal("from text", await sameText.Within());
        Assert.Equal("from number", await byNumber.Within());
        Assert.Equal("from number", await sameNumber.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task An_overload_with_more_parameters_keys_on_all_of_them()
    {
        var catalog = new Catalog(_runtime, _model);

        Task<string> german = catalog.LookupAsync("42", "de");
        Task<string> sameGerman = catalog.LookupAsync("42", "de");
        ModelCall call = await _model.NextCallAsync();
        call.Succeed("Drucker");

        Assert.Equal("localized|42|de", call.Prompt);
        Assert.Equal("Drucker", await german.Within());
        Assert.Equal("Drucker", await sameGerman.Within());
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task Several_guarded_methods_of_one_type_never_share_executions_with_each_other()
    {
        var desk = new SplitDesk(_runtime, _model);

        Task<string> ask = desk.AskAsync("s1");
        Task<string> sameAsk = desk.AskAsync("s1");
        Task<string> clarify = desk.ClarifyAsync("s1");
        Task<string> sameClarify = desk.ClarifyAsync("s1");
        await _model.AnswerTwoAsync("ask|s1", "answer", "question back");

        Assert.Equal("answer", await ask.Within());
        Assert.Equal("answer", await sameAsk.Within());
        Assert.Equal("question back", await clarify.Within());
        Assert.Equal("question back", await sameClarify.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task Guarded_methods_declared_in_different_files_of_one_type_run_on_the_runtime_declared_in_a_third()
    {
        var desk = new SplitDesk(_runtime, _model);

        Task<string> ask = desk.AskAsync("s1");
        Task<string> summary = desk.SummarizeAsync("s1");
        Task<string> sameSummary = desk.SummarizeAsync("s1");
        ModelCall a = await _model.NextCallAsync();
        ModelCall b = await _model.NextCallAsync();
        Assert.Equal(2, _runtime.InFlightCount);
        (a.Prompt == "ask|s1" ? a : b).Succeed("answer");
        (a.Prompt == "ask|s1" ? b : a).Succeed("summary");

        Assert.Equal("answer", await ask.Within());
        Assert.Equal("summary", await summary.Within());
        Assert.Equal("summary", await sameSummary.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_type_in_the_global_namespace_shares_executions_per_key()
    {
        var desk = new GlobalNamespaceDesk(_runtime, _model);

        Task<string> first = desk.AskAsync("s1", "hello");
        Task<string> second = desk.AskAsync("s1", "hello");
        Task<string> other = desk.AskAsync("s2", "hello");
        await _model.AnswerTwoAsync("s1|hello", "hi s1", "hi s2");

        Assert.Equal("hi s1", await first.Within());
        Assert.Equal("hi s1", await second.Within());
        Assert.Equal("hi s2", await other.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Theory]
    [InlineData("internal")]
    [InlineData("protected internal")]
    [InlineData("private")]
    [InlineData("private protected")]
    public async Task Guarded_methods_of_every_accessibility_share_executions(string accessibility)
    {
        var levels = new DerivedAccessLevels(_runtime, _model);
        Func<string, Task<string>> call = accessibility switch
        {
            "internal" => levels.InternalAsync,
            "protected internal" => levels.CallProtectedInternalAsync,
            "private" => levels.CallPrivateAsync,
            _ => levels.CallPrivateProtectedAsync,
        };

        Task<string> first = call("42");
        Task<string> second = call("42");
        ModelCall model = await _model.NextCallAsync();
        model.Succeed("found");

        Assert.Equal(accessibility + "|42", model.Prompt);
        Assert.Equal("found", await first.Within());
        Assert.Equal("found", await second.Within());
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task Code_with_nullable_annotations_disabled_can_pass_null_which_keys_apart_from_empty_text()
    {
        var assistant = new LegacyAssistant(_runtime, _model);

        Task<string> withoutSession = assistant.AskAsync(null, "q");
        Task<string> sameWithoutSession = assistant.AskAsync(null, "q");
        Task<string> emptySession = assistant.AskAsync("", "q");
        await _model.AnswerTwoAsync("<none>|q", "", "empty");

        Assert.Null(await withoutSession.Within());
        Assert.Null(await sameWithoutSession.Within());
        Assert.Equal("empty", await emptySession.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task Code_with_nullable_annotations_disabled_keys_on_a_member_chain_and_falls_back_for_every_caller()
    {
        var assistant = new LegacyAssistant(_runtime, _model);

        Task<string> first = assistant.HandleAsync(new LegacyRequest { CustomerId = "c-1", Text = "where is my order?" });
        Task<string> second = assistant.HandleAsync(new LegacyRequest { CustomerId = "c-1", Text = "hello?" });
        Task<string> anonymous = assistant.HandleAsync(null);
        ModelCall a = await _model.NextCallAsync();
        ModelCall b = await _model.NextCallAsync();
        (a.Prompt == "<none>|" ? a : b).Succeed("who are you?");
        (a.Prompt == "<none>|" ? b : a).Fail(new InvalidOperationException("provider down"));

        Assert.Equal("unavailable: provider down", await first.Within());
        Assert.Equal("unavailable: provider down", await second.Within());
        Assert.Equal("who are you?", await anonymous.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }
}
