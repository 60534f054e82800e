using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using System.Xml.Linq;
using LlmGuard.Generators.Tests.Infrastructure;
using LlmGuard.Redis.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests.Package;

/// <summary>
/// A brand-new console project outside the repository installs LlmGuard from the packed package alone, the way a
/// new user would: nothing from this repository reaches it but the package.
/// </summary>
[Collection(RealBuildsCollection.Name)]
public sealed class FreshProjectTests(PackedLlmGuard package) : IDisposable
{
    private const string DirectCallFile =
        """
        using Microsoft.Extensions.AI;

        // Business code that calls the model directly: LLMG100 must point here.
        public sealed class DirectCall(IChatClient chat)
        {
            public async Task<string> AskAsync(string question) => (await chat.GetResponseAsync(question)).Text;
        }
        """;

    private const string ProgramFile =
        """
        using LlmGuard;

        var greeter = new Greeter();
        string[] answers = await Task.WhenAll(greeter.GreetAsync("Ada"), greeter.GreetAsync("Ada"), greeter.GreetAsync("Ada"));
        Console.WriteLine($"guarded: {answers[0]} ({greeter.Executions} execution for {answers.Length} callers)");

        public partial class Greeter
        {
            private int _executions;

            public int Executions => _executions;

            [Guarded(Scene = "greeting")]
            public partial Task<string> GreetAsync(string name, CancellationToken cancellationToken = default);

            private async Task<string> GreetCoreAsync(string name, CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref _executions);
                await Task.Delay(200, cancellationToken);
                return $"Hello, {name}!";
            }
        }
        """;

    private const string MiddlewareProgramFile =
        """
        using Microsoft.Extensions.AI;

        var model = new CountingModel();
        IChatClient chat = new ChatClientBuilder(model).UseLlmGuard(configure: guard => guard.Scene = "support_chat").Build();
        ChatResponse[] answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => chat.GetResponseAsync("Where is my order?")));
        Console.WriteLine($"middleware: {answers[0].Text} ({model.Requests} request for {answers.Length} callers)");

        public sealed class CountingModel : IChatClient
        {
            private int _requests;

            public int Requests => _requests;

            public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            {
                Interlocked.Increment(ref _requests);
                await Task.Delay(200, cancellationToken);
                return new ChatResponse(new ChatMessage(ChatRole.Assistant, "It ships today."));
            }

            public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
                throw new NotSupportedException();

            public object? GetService(Type serviceType, object? serviceKey = null) => null;

            public void Dispose()
            {
            }
        }
        """;

    private const string RedisProgramFile =
        """
        using System.Text.Json.Serialization;
        using LlmGuard;
        using LlmGuard.Configuration;
        using LlmGuard.Redis;
        using Microsoft.Extensions.DependencyInjection;
        using StackExchange.Redis;

        // Two instances of one application, each with its own container, runtime and Redis connection, asked the same
        // question: the instance that does not run the execution answers with the other one's result.
        string redis = args[0];
        var model = new Model();
        await using ServiceProvider first = Instance(redis);
        await using ServiceProvider second = Instance(redis);

        Task<Reply> leading = new Assistant(first.GetRequiredService<GuardRuntime>(), model).AnswerAsync("Where is my order?");
        await model.Entered.WaitAsync(TimeSpan.FromSeconds(30));
        Task<Reply> following = new Assistant(second.GetRequiredService<GuardRuntime>(), model).AnswerAsync("Where is my order?");
        await FollowerWaitingAsync(redis);
        model.Release();
        Reply[] replies = await Task.WhenAll(leading, following).WaitAsync(TimeSpan.FromSeconds(30));
        Console.WriteLine($"distributed: {replies[0].Text} | {replies[1].Text} ({model.Executions} execution for 2 instances)");

        static ServiceProvider Instance(string redis)
        {
            var services = new ServiceCollection();
            services.AddLlmGuard(options => options.Scenes[Assistant.Scene] = new LlmSceneOptions { Distributed = true })
                .AddRedis(options =>
                {
                    options.Configuration = redis;
                    options.TypeInfoResolver = AppJson.Default;
                    options.KeyPrefix = "fresh:";
                });
            return services.BuildServiceProvider();
        }

        // The model holds the first instance's execution until the second instance has subscribed to the announcement
        // of its result, so the second one is certain to wait for it rather than find the key free and run it too.
        static async Task FollowerWaitingAsync(string redis)
        {
            await using ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(redis);
            IServer server = admin.GetServer(admin.GetEndPoints()[0]);
            for (int polls = 0; ((RedisResult[])(await server.ExecuteAsync("PUBSUB", "CHANNELS", "fresh:done:*"))!).Length == 0; polls++)
            {
                if (polls == 1_000)
                {
                    throw new TimeoutException("The second instance never waited for the first one's result.");
                }

                await Task.Delay(10);
            }
        }

        public sealed record Reply(string Text);

        [JsonSerializable(typeof(Reply))]
        internal sealed partial class AppJson : JsonSerializerContext;

        public sealed class Model
        {
            private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
            private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
            private int _executions;

            public int Executions => Volatile.Read(ref _executions);

            public Task Entered => _entered.Task;

            public void Release() => _released.SetResult();

            public async Task<Reply> AnswerAsync(string question, CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref _executions);
                _entered.TrySetResult();
                await _released.Task.WaitAsync(cancellationToken);
                return new Reply("It ships today.");
            }
        }

        public partial class Assistant(GuardRuntime runtime, Model model)
        {
            public const string Scene = "order_status";

            [Guarded(Scene = Scene)]
            public partial Task<Reply> AnswerAsync(string question, CancellationToken cancellationToken = default);

            private Task<Reply> AnswerCoreAsync(string question, CancellationToken cancellationToken) => model.AnswerAsync(question, cancellationToken);
        }
        """;

    private readonly string _directory = DotnetCli.CreateTemporaryDirectory("fresh-project");

    [Fact]
    public async Task A_new_console_project_builds_with_the_package_reports_LLMG100_at_a_direct_call_and_runs_its_guarded_method()
    {
        WriteProject();

        ProcessResult build = await DotnetCli.RunAsync("build", _directory, TimeSpan.FromMinutes(5));

        Assert.True(build.ExitCode == 0, build.Output);
        string[] lines = DirectCallFile.Split('\n');
        int lineIndex = Array.FindIndex(lines, l => l.Contains("chat.GetResponseAsync", StringComparison.Ordinal));
        int lineNumber = lineIndex + 1;
        int column = lines[lineIndex].IndexOf("chat.GetResponseAsync", StringComparison.Ordinal) + 1;
        Assert.Contains($"DirectCall.cs({lineNumber},{column}): warning LLMG100:", build.Output, StringComparison.Ordinal);

        string generated = Path.Combine(_directory, "obj", "generated", "LlmGuard.Generators", "LlmGuard.Generators.GuardedGenerator", "Greeter.Guarded.g.cs");
        Assert.True(File.Exists(generated), $"No generated file at {generated}:\n{build.Output}");
        Assert.Contains("public partial global::System.Threading.Tasks.Task<string> GreetAsync(string name, global::System.Threading.CancellationToken cancellationToken", File.ReadAllText(generated), StringComparison.Ordinal);

        ProcessResult run = await DotnetCli.RunAsync("run --no-build", _directory, TimeSpan.FromMinutes(2));

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("guarded: Hello, Ada! (1 execution for 3 callers)", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_compiler_older_than_Roslyn_4_8_fails_the_build_with_LLMG020_instead_of_missing_methods()
    {
        WriteProject();

        // The compiler's own targets define CompilerApiVersion; a global property stands in for an older compiler.
        ProcessResult build = await DotnetCli.RunAsync("build -p:CompilerApiVersion=roslyn4.4", _directory, TimeSpan.FromMinutes(5));

        Assert.NotEqual(0, build.ExitCode);
        Assert.Matches(new Regex(@"error LLMG020: LlmGuard needs C# compiler Roslyn 4\.8 or newer .*this build uses 'roslyn4\.4'"), build.Output);
        Assert.DoesNotContain("CS8795", build.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_console_project_builds_with_the_Extensions_AI_package_and_its_middleware_shares_identical_requests()
    {
        WriteProject(extensionsAi: true);

        ProcessResult build = await DotnetCli.RunAsync("build", _directory, TimeSpan.FromMinutes(5));

        Assert.True(build.ExitCode == 0, build.Output);

        ProcessResult run = await DotnetCli.RunAsync("run --no-build", _directory, TimeSpan.FromMinutes(2));

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("middleware: It ships today. (1 request for 3 callers)", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_console_project_builds_with_the_Redis_package_without_warnings_and_two_instances_run_one_execution_through_Redis()
    {
        WriteProject(
            [("LlmGuard", package.Version), ("LlmGuard.Redis", package.Version), ("Microsoft.Extensions.DependencyInjection", RepositoryPackageVersion("Microsoft.Extensions.DependencyInjection"))],
            warningsAsErrors: true,
            ("Program.cs", RedisProgramFile));

        ProcessResult build = await DotnetCli.RunAsync("build", _directory, TimeSpan.FromMinutes(5));

        Assert.True(build.ExitCode == 0, build.Output);
        if (!RedisServerInstalled())
        {
            // CI installs redis-server; a machine without it still proves the package installs and builds.
            return;
        }

        var server = new RedisServer();
        await server.InitializeAsync();
        try
        {
            ProcessResult run = await DotnetCli.RunAsync($"run --no-build -- \"{server.Configuration}\"", _directory, TimeSpan.FromMinutes(2));

            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Contains("distributed: It ships today. | It ships today. (1 execution for 2 instances)", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    public void Dispose() => DotnetCli.DeleteDirectory(_directory);

    private static bool RedisServerInstalled() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, "redis-server")));

    private void WriteProject(bool extensionsAi = false)
    {
        string abstractions = RepositoryPackageVersion("Microsoft.Extensions.AI.Abstractions");
        if (extensionsAi)
        {
            // Installed alone: LlmGuard and Microsoft.Extensions.AI come as its dependencies.
            WriteProject([("LlmGuard.Extensions.AI", package.Version), ("Microsoft.Extensions.AI.Abstractions", abstractions)], warningsAsErrors: false, ("Program.cs", MiddlewareProgramFile));
        }
        else
        {
            WriteProject(
                [("LlmGuard", package.Version), ("Microsoft.Extensions.AI.Abstractions", abstractions)],
                warningsAsErrors: false,
                ("Program.cs", ProgramFile),
                ("DirectCall.cs", DirectCallFile));
        }
    }

    private void WriteProject((string Id, string Version)[] packages, bool warningsAsErrors, params (string Name, string Text)[] files)
    {
        // LlmGuard may come from the temporary feed only.
        File.WriteAllText(Path.Combine(_directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{package.PackagesFolder}" />
              </config>
              <packageSources>
                <clear />
                <add key="llmguard-under-test" value="{package.Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="llmguard-under-test">
                  <package pattern="LlmGuard" />
                  <package pattern="LlmGuard.Extensions.AI" />
                  <package pattern="LlmGuard.Redis" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(_directory, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>{(warningsAsErrors ? "true" : "false")}</TreatWarningsAsErrors>
                <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
                <CompilerGeneratedFilesOutputPath>obj/generated</CompilerGeneratedFilesOutputPath>
              </PropertyGroup>
              <ItemGroup>
                {string.Join("\n    ", packages.Select(p => $"<PackageReference Include=\"{p.Id}\" Version=\"{p.Version}\" />"))}
              </ItemGroup>
            </Project>
            """);
        foreach ((string name, string text) in files)
        {
            File.WriteAllText(Path.Combine(_directory, name), text);
        }
    }

    private static string RepositoryPackageVersion(string id) =>
        XDocument.Load(Path.Combine(RepositoryPaths.Root, "Directory.Packages.props"))
            .Descendants("PackageVersion")
            .First(element => element.Attribute("Include")?.Value == id)
            .Attribute("Version")!.Value;
}
