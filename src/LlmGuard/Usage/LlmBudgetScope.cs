namespace LlmGuard.Usage;

/// <summary>Who a token budget is counted for.</summary>
public enum LlmBudgetScope
{
    /// <summary>One count per scene.</summary>
    Scene,

    /// <summary>One count per tenant of the call context; calls without a tenant are not limited by the budget.</summary>
    Tenant,

    /// <summary>One count per user of the call context; calls without a user are not limited by the budget.</summary>
    User,
}
