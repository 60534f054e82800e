using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Hosting;

internal sealed class LlmGuardBuilder(IServiceCollection services) : ILlmGuardBuilder
{
    public IServiceCollection Services { get; } = services;
}
