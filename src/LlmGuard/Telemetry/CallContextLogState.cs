using System.Collections;
using System.Collections.Generic;

namespace LlmGuard.Telemetry;

/// <summary>
/// The log scope of an execution's events: who the call was made for, as structured properties a logging provider
/// can index (<c>Tenant</c>, <c>User</c>, <c>Conversation</c>, <c>Module</c>, <c>RequestId</c>).
/// </summary>
internal sealed class CallContextLogState : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly LlmCallContext _context;

    public CallContextLogState(LlmCallContext context)
    {
        _context = context;
    }

    public int Count => 5;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("Tenant", _context.Tenant),
        1 => new("User", _context.User),
        2 => new("Conversation", _context.Conversation),
        3 => new("Module", _context.Module),
        4 => new("RequestId", _context.RequestId),
        _ => throw new System.ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // What a provider that prints scopes as text shows.
    public override string ToString() =>
        $"Tenant:{_context.Tenant} User:{_context.User} Conversation:{_context.Conversation} Module:{_context.Module} RequestId:{_context.RequestId}";
}
