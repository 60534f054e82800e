using System;

namespace LlmGuard;

/// <summary>The lifetime of a context begun by <see cref="LlmCallContext.Begin"/>; disposing it restores the outer context.</summary>
public readonly struct LlmCallContextScope : IDisposable
{
    private readonly LlmCallContext? _context;

    internal LlmCallContextScope(LlmCallContext context) => _context = context;

    /// <summary>Makes the context that was current when this scope began current again in this async flow.</summary>
    /// <remarks>
    /// Disposing scopes out of order is a mistake, handled so that it cannot install a context nobody began: disposing
    /// an outer scope while an inner one is current ends both (the inner one's later disposal does nothing), and a
    /// second disposal, a disposal in a flow where the scope is not open, or the disposal of <c>default</c> do nothing.
    /// No disposal changes the context of another async flow.
    /// </remarks>
    public void Dispose()
    {
        if (_context is not null)
        {
            LlmCallContext.End(_context);
        }
    }
}
