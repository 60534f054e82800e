namespace LlmGuard.Profiles;

/// <summary>How a model profile spreads its requests over its models.</summary>
public enum LlmProfileStrategy
{
    /// <summary>Each request goes to the next model in the list, wrapping around.</summary>
    RoundRobin = 0,

    /// <summary>Each request goes to the model with the fewest requests in flight; ties go round-robin.</summary>
    LeastInFlight = 1,
}
