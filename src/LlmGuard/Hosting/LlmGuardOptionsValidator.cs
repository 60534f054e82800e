using System;
using System.Collections.Generic;
using LlmGuard.Configuration;
using LlmGuard.Profiles;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LlmGuard.Hosting;

/// <summary>
/// Rejects options that name a scene no guarded method has, a key that is not a scene setting, or a value out of the
/// attribute's range; run at start-up (<c>ValidateOnStart</c>) and before a reload is applied.
/// </summary>
internal sealed class LlmGuardOptionsValidator(IServiceProvider services) : IValidateOptions<LlmGuardOptions>
{
    public ValidateOptionsResult Validate(string? name, LlmGuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (name is not null && name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        IConfiguration? configuration = services.GetService<IConfiguration>();
        IConfigurationSection? scenes = configuration?.GetSection(LlmGuardOptionsValidation.ScenesSection);
        List<string> failures = LlmGuardOptionsValidation.Validate(options, requireKnownScenes: true, scenes);
        ProfileOptionsValidation.Validate(options.Profiles, configuration?.GetSection(ProfileOptionsValidation.Section), services, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
