using System;
using LlmGuard.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LlmGuard.Hosting;

/// <summary>Binds the section <c>LlmGuard</c> of the container's <see cref="IConfiguration"/>, when it has one.</summary>
/// <remarks>The binding source generator replaces the <c>Bind</c> call with generated code: no reflection.</remarks>
internal sealed class LlmGuardConfigurationBinder(IServiceProvider services) : IConfigureOptions<LlmGuardOptions>
{
    public const string Section = "LlmGuard";

    public void Configure(LlmGuardOptions options) =>
        services.GetService<IConfiguration>()?.GetSection(Section).Bind(options);
}
