using System;

namespace LlmGuard;

/// <summary>
/// Marks a parameter of a cached <see cref="GuardedAttribute">[Guarded]</see> method that is not part of the key and
/// that the core may read without changing the answer, such as a request id it logs or a logger it writes to.
/// </summary>
/// <remarks>
/// A cached answer is served to every later call with the same key. When the core reads a parameter that is not in
/// the key (<see cref="NotInKeyAttribute">[NotInKey]</see>, or left out of a <see cref="GuardedAttribute.Key"/>
/// template), a later call that differs only in that parameter would receive an answer made from another value, so
/// the generator reports error LLMG024. This attribute is the author's statement that the value does not shape the
/// answer; the generator trusts it and reports nothing.
/// </remarks>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class DoesNotAffectAnswerAttribute : Attribute
{
}
