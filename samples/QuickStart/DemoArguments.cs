using System;
using System.Diagnostics.CodeAnalysis;

namespace QuickStart;

/// <summary>The command line: <c>--endpoint URL --model NAME</c> together, or neither for the simulated provider.</summary>
public sealed record DemoArguments(Uri? Endpoint, string? Model, bool Help)
{
    public static string Usage(string apiKeyVariable) =>
        $"""
        Usage: dotnet run --project samples/QuickStart [-- --endpoint URL --model NAME]

          (no options)          replay the traffic against a simulated OpenAI-compatible provider on a loopback port
          --endpoint URL        an OpenAI-compatible server instead, e.g. http://localhost:11434/v1 (Ollama)
          --model NAME          the model to ask there, e.g. llama3.2
          --help                show this text

        With --endpoint, the API key is read from {apiKeyVariable}. Each attempt is cancelled after 2 s and answers
        are capped at 100 tokens, so a slow model is answered by the fallback.
        """;

    public static bool TryParse(string[] args, [NotNullWhen(true)] out DemoArguments? arguments, out string? error)
    {
        arguments = null;
        error = null;
        Uri? endpoint = null;
        string? model = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--help" or "-h":
                    arguments = new DemoArguments(null, null, Help: true);
                    return true;
                case "--endpoint" when i + 1 < args.Length:
                    if (!Uri.TryCreate(args[++i], UriKind.Absolute, out endpoint))
                    {
                        error = $"--endpoint needs an absolute URL, not '{args[i]}'.";
                        return false;
                    }

                    break;
                case "--model" when i + 1 < args.Length:
                    model = args[++i];
                    break;
                default:
                    error = $"Unknown or incomplete option '{args[i]}'.";
                    return false;
            }
        }

        if ((endpoint is null) != (model is null))
        {
            error = "--endpoint and --model go together.";
            return false;
        }

        arguments = new DemoArguments(endpoint, model, Help: false);
        return true;
    }
}
