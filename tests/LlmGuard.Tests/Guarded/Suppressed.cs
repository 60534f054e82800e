using System.Threading.Tasks;

namespace LlmGuard.Tests.Guarded;

/// <summary>
/// Compiles only while generator diagnostics honour pragmas: the key leaves out 'locale' on purpose, and
/// .editorconfig makes LLMG015 an error in this project.
/// </summary>
public partial class SuppressedDiagnostic
{
#pragma warning disable LLMG015
    [Guarded(Key = "{ticketId}")]
    public partial Task<string> SummarizeAsync(string ticketId, string locale);
#pragma warning restore LLMG015

    private Task<string> SummarizeCoreAsync(string ticketId, string locale) => Task.FromResult(ticketId + locale);
}
