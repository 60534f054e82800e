using System;

namespace LlmGuard;

/// <summary>
/// Marks the parameter of a cached <see cref="GuardedAttribute">[Guarded]</see> method that identifies whose answer
/// it is (a tenant, user or conversation id), so cached answers are never shared across its values.
/// </summary>
/// <remarks>
/// The parameter partitions the cache only through the key: it must be part of it (named in the
/// <see cref="GuardedAttribute.Key"/> template, or, without a template, not marked
/// <see cref="NotInKeyAttribute">[NotInKey]</see>). A cached method whose key has neither such a parameter nor a
/// <c>{$tenant}</c>, <c>{$user}</c> or <c>{$conversation}</c> placeholder is warning LLMG025.
/// </remarks>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class CachePartitionAttribute : Attribute
{
}
