using System;
using System.Threading;
using LlmGuard.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace LlmGuard.Hosting;

/// <summary>
/// Tells <see cref="IOptionsMonitor{TOptions}"/> that <see cref="LlmGuardOptions"/> changed only after the reloaded
/// configuration passed validation. Listening to the configuration directly would let the monitor throw the validation
/// failure into the configuration provider's thread and forget the previous settings; here an invalid reload is logged
/// (event 11) and every consumer keeps the previous valid settings.
/// </summary>
internal sealed class LlmGuardConfigurationWatcher : IOptionsChangeTokenSource<LlmGuardOptions>, IDisposable
{
    private readonly IOptionsFactory<LlmGuardOptions> _factory;
    private readonly ILogger _logger;
    private readonly IDisposable? _subscription;
    private CancellationTokenSource _changed = new();

    public LlmGuardConfigurationWatcher(IServiceProvider services, IOptionsFactory<LlmGuardOptions> factory)
    {
        _factory = factory;
        _logger = services.GetService<ILoggerFactory>()?.CreateLogger(ConfigurationLog.Category) ?? NullLogger.Instance;
        if (services.GetService<IConfiguration>() is { } configuration)
        {
            _subscription = ChangeToken.OnChange(configuration.GetReloadToken, OnConfigurationReloaded);
        }
    }

    public string Name => Options.DefaultName;

    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

    public void Dispose()
    {
        _subscription?.Dispose();
        _changed.Dispose();
    }

    private void OnConfigurationReloaded()
    {
        try
        {
            _factory.Create(Name);
        }
        catch (Exception exception) when (exception is OptionsValidationException or InvalidOperationException or FormatException)
        {
            // A validation failure, or a value the binder cannot convert ("abc" for a number).
            ConfigurationLog.ConfigurationRejected(_logger, exception.Message);
            return;
        }

        CancellationTokenSource changed = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        try
        {
            changed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The container is being disposed: nobody listens any more.
        }
        catch (AggregateException exception)
        {
            // The configuration changed again between the check above and the monitor's rebuild, to something invalid.
            ConfigurationLog.ConfigurationRejected(_logger, exception.InnerException?.Message ?? exception.Message);
        }
        finally
        {
            changed.Dispose();
        }
    }
}
