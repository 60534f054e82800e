using Simulation;

namespace TicketDesk.Tests;

internal static class SimulatedRequestAssert
{
    /// <summary>The provider received exactly one request, and its user messages were <paramref name="prompt"/>.</summary>
    public static SimulatedRequest Single(SimulatedProvider provider, string prompt)
    {
        SimulatedRequest request = Assert.Single(provider.Received);
        Assert.Equal(prompt, request.Prompt);
        return request;
    }
}
