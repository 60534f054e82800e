using System.Threading.Tasks;
using Microsoft.Extensions.AI;

namespace QuickStart.Unguarded;

// Compiled only with -p:ShowUnguardedCall=true: business code that calls a model directly, which LLMG100 reports.
public sealed class DirectModelCall(IChatClient chat)
{
    public async Task<string> AskAsync(string question) =>
        (await chat.GetResponseAsync(question)).Text;
}
