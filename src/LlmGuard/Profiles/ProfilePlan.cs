using System;
using System.Collections.Generic;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Profiles;

/// <summary>
/// A profile's models and strategy as one immutable value: a reload swaps the whole plan, so a request sees either the
/// old models or the new ones, never a mix.
/// </summary>
internal sealed class ProfilePlan
{
    private ProfilePlan(LlmProfileStrategy strategy, ProfileModel[] models)
    {
        Strategy = strategy;
        Models = models;
    }

    public LlmProfileStrategy Strategy { get; }

    public ProfileModel[] Models { get; }

    /// <summary>
    /// Builds the plan of <paramref name="options"/>, keeping each model of <paramref name="previous"/> whose settings
    /// are unchanged, with its breaker and requests in flight.
    /// </summary>
    public static ProfilePlan Create(
        string profile, LlmModelProfileOptions options, ProfilePlan? previous, IServiceProvider services, ProfileEnvironment environment)
    {
        var reusable = new List<ProfileModel>(previous?.Models ?? []);
        var models = new ProfileModel[options.Models.Count];
        for (int i = 0; i < models.Length; i++)
        {
            ProfileModelSettings settings = ProfileModelSettings.From(options, options.Models[i]);
            int kept = reusable.FindIndex(model => model.Settings == settings);
            if (kept >= 0)
            {
                models[i] = reusable[kept];
                reusable.RemoveAt(kept);
                continue;
            }

            IChatClient client = settings.Client is { } key
                ? services.GetRequiredKeyedService<IChatClient>(key)
                : services.GetRequiredService<IChatClient>();
            models[i] = new ProfileModel(settings, client, environment, profile);
        }

        return new ProfilePlan(options.Strategy, models);
    }

    /// <summary>Returns whether this plan was built from settings equal to <paramref name="options"/>.</summary>
    public bool Matches(LlmModelProfileOptions options)
    {
        if (options.Strategy != Strategy || options.Models.Count != Models.Length)
        {
            return false;
        }

        for (int i = 0; i < Models.Length; i++)
        {
            if (Models[i].Settings != ProfileModelSettings.From(options, options.Models[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Picks the position of the model for the next send of a request, among the available models not yet tried;
    /// -1 when there is none.
    /// </summary>
    /// <param name="start">Where the request's round starts: consecutive requests start one model further on.</param>
    /// <param name="tried">The positions this request already tried, one bit each.</param>
    public int Pick(int start, ulong tried)
    {
        int best = -1;
        for (int i = 0; i < Models.Length; i++)
        {
            int position = (start + i) % Models.Length;
            ProfileModel model = Models[position];
            if ((tried & (1UL << position)) != 0 || !model.IsAvailable)
            {
                continue;
            }

            if (Strategy == LlmProfileStrategy.RoundRobin)
            {
                return position;
            }

            // Strictly fewer: among equals the first in this request's round wins, so ties still go round-robin.
            if (best < 0 || model.InFlight < Models[best].InFlight)
            {
                best = position;
            }
        }

        return best;
    }
}
