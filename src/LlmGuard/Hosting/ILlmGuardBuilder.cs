using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Hosting;

/// <summary>Returned by <c>AddLlmGuard()</c>: further LlmGuard setup of the same service collection chains from it.</summary>
public interface ILlmGuardBuilder
{
    /// <summary>Gets the service collection LlmGuard was added to.</summary>
    IServiceCollection Services { get; }
}
