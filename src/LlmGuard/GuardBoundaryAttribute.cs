using System;

namespace LlmGuard;

/// <summary>
/// Marks a method or type that may call a model SDK directly without a <see cref="GuardedAttribute">[Guarded]</see>
/// method around it, such as infrastructure that guards calls itself. The analyzer does not report SDK calls inside it.
/// </summary>
[AttributeUsage(
    AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface | AttributeTargets.Method | AttributeTargets.Constructor | AttributeTargets.Property,
    AllowMultiple = false,
    Inherited = false)]
public sealed class GuardBoundaryAttribute : Attribute
{
    /// <summary>Marks a guard boundary.</summary>
    /// <param name="reason">Why calls here need no [Guarded] method, for the next reader.</param>
    public GuardBoundaryAttribute(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        Reason = reason;
    }

    /// <summary>Gets why calls here need no [Guarded] method.</summary>
    public string Reason { get; }
}
