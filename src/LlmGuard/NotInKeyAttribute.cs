using System;

namespace LlmGuard;

/// <summary>
/// Marks a parameter of a <see cref="GuardedAttribute">[Guarded]</see> method that is deliberately not part of
/// its implicit key: callers that differ only in this parameter share one execution and receive the same result.
/// </summary>
/// <remarks>
/// It applies when the method has no <see cref="GuardedAttribute.Key"/> template; a template decides the key alone, and
/// naming a <c>[NotInKey]</c> parameter in it is warning LLMG021.
/// </remarks>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class NotInKeyAttribute : Attribute
{
}
