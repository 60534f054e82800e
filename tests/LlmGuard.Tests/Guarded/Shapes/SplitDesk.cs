using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded.Shapes;

/// <summary>
/// One type in three partial declarations and files: its state here, guarded methods in SplitDesk.Questions.cs and
/// SplitDesk.Summaries.cs. The generator writes one file with all of them, on this runtime.
/// </summary>
public sealed partial class SplitDesk
{
    private readonly GuardRuntime _runtime;
    private readonly ScriptedModel _model;

    public SplitDesk(GuardRuntime runtime, ScriptedModel model)
    {
        _runtime = runtime;
        _model = model;
    }
}
