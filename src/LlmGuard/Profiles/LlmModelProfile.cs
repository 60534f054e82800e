using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Telemetry;
using Microsoft.Extensions.AI;
using Polly;
using Polly.CircuitBreaker;

namespace LlmGuard.Profiles;

/// <summary>
/// A named model profile as an <see cref="IChatClient"/>: each request goes to one of the profile's models, picked by
/// its <see cref="LlmProfileStrategy"/> among the models whose circuit breaker is not open.
/// </summary>
/// <remarks>
/// Obtain it from <see cref="LlmModelProfiles.Get"/>, or inject it as the keyed <c>IChatClient</c> registered by
/// <c>AddModelProfile(name)</c>. A failed request is not sent to another model: the guarded method's retry sends the
/// next attempt, which the profile gives to the next model. When every breaker is open the request fails with
/// <see cref="LlmProfileUnavailableException"/> without calling a model.
/// </remarks>
public sealed class LlmModelProfile : IChatClient
{
    // While every breaker is open each request is refused, and a busy profile would write an error per request: one
    // event per interval per profile carries the number refused since the last one, like a scene's shedding.
    private static readonly TimeSpan s_unavailableLogInterval = TimeSpan.FromSeconds(10);
    // What the profile says about itself: no single provider or model, so the profile's name stands for both.
    private const string MetadataProviderName = "llmguard-profile";

    private readonly IServiceProvider _services;
    private readonly ProfileEnvironment _environment;
    private readonly ChatClientMetadata _metadata;
    private ProfilePlan _plan;
    private int _cursor = -1;
    private long _refusedSinceLog;
    private long _lastUnavailableLog = long.MinValue;

    internal LlmModelProfile(string name, LlmModelProfileOptions options, IServiceProvider services, ProfileEnvironment environment)
    {
        Name = name;
        _metadata = new ChatClientMetadata(MetadataProviderName, providerUri: null, defaultModelId: name);
        _services = services;
        _environment = environment;
        _plan = ProfilePlan.Create(name, options, previous: null, services, environment);
    }

    /// <summary>Gets the profile's name, the key of its settings under <c>LlmGuard:Profiles</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// Sends the request to one of the profile's models, with that model's id set on a copy of <paramref name="options"/>
    /// when the profile names one.
    /// </summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="options">The caller's options; never changed.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The chosen model's response.</returns>
    /// <exception cref="LlmProfileUnavailableException">Every model's circuit breaker is open.</exception>
    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ProfilePlan plan = Volatile.Read(ref _plan);
        int start = NextStart(plan);
        ulong tried = 0;
        for (int position = plan.Pick(start, tried); position >= 0; position = plan.Pick(start, tried))
        {
            tried |= 1UL << position;
            ProfileModel model = plan.Models[position];
            var request = new Request(model, messages, model.OptionsFor(options));
            ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
            Outcome<ChatResponse> outcome;
            model.Enter();
            try
            {
                outcome = await model.TimedBreaker.ExecuteOutcomeAsync(static (c, r) => r.SendAsync(c.CancellationToken), context, request).ConfigureAwait(false);
            }
            finally
            {
                model.Exit();
                ResilienceContextPool.Shared.Return(context);
            }

            // Another request is probing this model's half-open breaker: try the next model.
            if (!request.Sent && outcome.Exception is BrokenCircuitException)
            {
                continue;
            }

            Count(model, outcome.Exception, cancellationToken);
            if (outcome.Exception is { } exception)
            {
                ExceptionDispatchInfo.Throw(exception);
            }

            return outcome.Result!;
        }

        throw Unavailable();
    }

    /// <summary>
    /// Streams the response of one of the profile's models, picked once: the model's breaker judges the stream by its
    /// first update, and every later update passes through unchanged.
    /// </summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="options">The caller's options; never changed.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The chosen model's updates.</returns>
    /// <exception cref="LlmProfileUnavailableException">Every model's circuit breaker is open.</exception>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ProfilePlan plan = Volatile.Read(ref _plan);
        int start = NextStart(plan);
        ulong tried = 0;
        StreamRequest? stream = null;
        while (stream is null)
        {
            int position = plan.Pick(start, tried);
            if (position < 0)
            {
                throw Unavailable();
            }

            tried |= 1UL << position;
            ProfileModel model = plan.Models[position];
            var request = new StreamRequest(model, messages, model.OptionsFor(options));
            ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
            Outcome<bool> outcome;
            model.Enter();
            try
            {
                outcome = await model.Breaker.ExecuteOutcomeAsync(static (c, r) => r.StartAsync(c.CancellationToken), context, request).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }

            if (outcome.Exception is { } exception)
            {
                model.Exit();
                await request.DisposeAsync().ConfigureAwait(false);
                if (!request.Sent && exception is BrokenCircuitException)
                {
                    continue;
                }

                Count(model, exception, cancellationToken);
                ExceptionDispatchInfo.Throw(exception);
            }

            Count(model, exception: null, cancellationToken);
            stream = request;
        }

        try
        {
            for (bool more = stream.HasFirst; more; more = await stream.Updates!.MoveNextAsync().ConfigureAwait(false))
            {
                yield return stream.Updates!.Current;
            }
        }
        finally
        {
            stream.Model.Exit();
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Returns this profile when asked for a type it is, and its <see cref="ChatClientMetadata"/> (provider
    /// <c>llmguard-profile</c>, the profile's name as default model), with no key; otherwise <see langword="null"/>.
    /// </summary>
    /// <param name="serviceType">The type asked for.</param>
    /// <param name="serviceKey">The key asked for.</param>
    /// <returns>This profile, its metadata, or <see langword="null"/>.</returns>
    /// <remarks>
    /// Middleware above a profile tells it from another by this metadata: LlmGuard's chat client keys its requests and
    /// cache entries by it, so two profiles under one scene never share an answer.
    /// </remarks>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        return serviceType.IsInstanceOfType(this) ? this
            : serviceType == typeof(ChatClientMetadata) ? _metadata
            : null;
    }

    /// <summary>Does nothing: the models' clients belong to the container that registered them.</summary>
    public void Dispose()
    {
    }

    internal ProfilePlan Plan => Volatile.Read(ref _plan);

    /// <summary>Applies reloaded settings to requests that start from now on; requests in flight finish on their model.</summary>
    internal void Apply(LlmModelProfileOptions options)
    {
        ProfilePlan current = Volatile.Read(ref _plan);
        if (!current.Matches(options))
        {
            Volatile.Write(ref _plan, ProfilePlan.Create(Name, options, current, _services, _environment));
        }
    }

    private int NextStart(ProfilePlan plan) =>
        (int)((uint)Interlocked.Increment(ref _cursor) % (uint)plan.Models.Length);

    private LlmProfileUnavailableException Unavailable()
    {
        Interlocked.Increment(ref _refusedSinceLog);
        if (_environment.Logger is { } logger)
        {
            TimeProvider clock = _environment.TimeProvider;
            long now = clock.GetTimestamp();
            long last = Volatile.Read(ref _lastUnavailableLog);
            if ((last == long.MinValue || clock.GetElapsedTime(last, now) >= s_unavailableLogInterval)
                && Interlocked.CompareExchange(ref _lastUnavailableLog, now, last) == last)
            {
                ProfileLog.ProfileUnavailable(logger, Name, Interlocked.Exchange(ref _refusedSinceLog, 0));
            }
        }

        _environment.Requests?.Add(1, new(ProfileTelemetry.ProfileTag, Name), new(TelemetryNames.ResultTag, CallResults.Rejected));
        return new LlmProfileUnavailableException(
            Name, $"Every model of profile '{Name}' has an open circuit breaker; no model was called.");
    }

    private void Count(ProfileModel model, Exception? exception, CancellationToken cancellationToken)
    {
        if (_environment.Requests is not { Enabled: true } requests)
        {
            return;
        }

        string result = exception is null ? CallResults.Success : cancellationToken.IsCancellationRequested ? CallResults.Cancelled : CallResults.Error;
        requests.Add(1, new(ProfileTelemetry.ProfileTag, Name), new(TelemetryNames.ModelTag, model.Name), new(TelemetryNames.ResultTag, result));
    }

    // The model that answers is known only here: telemetry and usage records of the guarded execution around this
    // request name it even when the core returns a projection that carries no model id.
    private static void Announce(ProfileModel model)
    {
        LlmUsage.Current?.AddUsage(inputTokens: null, outputTokens: null, model.Name);
        if (Activity.Current is { } activity && activity.Source == GuardTelemetry.ActivitySource)
        {
            activity.SetTag(TelemetryNames.ModelTag, model.Name);
        }
    }

    private sealed class Request(ProfileModel model, IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        /// <summary>Gets whether the breaker admitted the request and it reached the model's client.</summary>
        public bool Sent { get; private set; }

        public async ValueTask<Outcome<ChatResponse>> SendAsync(CancellationToken cancellationToken)
        {
            Sent = true;
            Announce(model);
            try
            {
                return Outcome.FromResult(await model.Client.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception exception)
            {
                return Outcome.FromException<ChatResponse>(exception);
            }
        }
    }

    private sealed class StreamRequest(ProfileModel model, IEnumerable<ChatMessage> messages, ChatOptions? options) : IAsyncDisposable
    {
        public ProfileModel Model { get; } = model;

        public bool Sent { get; private set; }

        public IAsyncEnumerator<ChatResponseUpdate>? Updates { get; private set; }

        public bool HasFirst { get; private set; }

        public async ValueTask<Outcome<bool>> StartAsync(CancellationToken cancellationToken)
        {
            Sent = true;
            Announce(Model);
            try
            {
                Updates = Model.Client.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
                HasFirst = await Updates.MoveNextAsync().ConfigureAwait(false);
                return Outcome.FromResult(HasFirst);
            }
            catch (Exception exception)
            {
                return Outcome.FromException<bool>(exception);
            }
        }

        public ValueTask DisposeAsync() => Updates?.DisposeAsync() ?? default;
    }
}
