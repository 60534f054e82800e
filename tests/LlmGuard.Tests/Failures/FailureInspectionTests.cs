using System;
using System.ClientModel;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Anthropic.Exceptions;
using LlmGuard.Failures;
using Microsoft.Extensions.Time.Testing;
using Polly.Timeout;

namespace LlmGuard.Tests.Failures;

public sealed class FailureInspectionTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    public static TheoryData<string, Exception, FailureKind> Failures => new()
    {
        { "attempt timeout", new TimeoutRejectedException(), FailureKind.Transient },
        { "TimeoutException", new TimeoutException(), FailureKind.Transient },
        { "HttpClient timeout", new TaskCanceledException("HttpClient.Timeout", new TimeoutException()), FailureKind.Transient },
        { "IOException", new IOException("reset"), FailureKind.Transient },
        { "missing file", new FileNotFoundException("prompt.txt"), FailureKind.Permanent },
        { "missing directory", new DirectoryNotFoundException("prompts"), FailureKind.Permanent },
        { "HTTP no status", new HttpRequestException("refused"), FailureKind.Transient },
        { "HTTP 408", Http(HttpStatusCode.RequestTimeout), FailureKind.Transient },
        { "HTTP 429", Http(HttpStatusCode.TooManyRequests), FailureKind.Transient },
        { "HTTP 500", Http(HttpStatusCode.InternalServerError), FailureKind.Transient },
        { "HTTP 503", Http(HttpStatusCode.ServiceUnavailable), FailureKind.Transient },
        { "HTTP 400", Http(HttpStatusCode.BadRequest), FailureKind.Permanent },
        { "HTTP 401", Http(HttpStatusCode.Unauthorized), FailureKind.Permanent },
        { "HTTP 403", Http(HttpStatusCode.Forbidden), FailureKind.Permanent },
        { "HTTP 404", Http(HttpStatusCode.NotFound), FailureKind.Permanent },
        { "HTTP 422", Http(HttpStatusCode.UnprocessableEntity), FailureKind.Permanent },
        { "ClientModel no response", new ClientResultException("refused", null, new HttpRequestException("refused")), FailureKind.Transient },
        { "ClientModel 408", Client(408), FailureKind.Transient },
        { "ClientModel 429", Client(429), FailureKind.Transient },
        { "ClientModel 500", Client(500), FailureKind.Transient },
        { "ClientModel 503", Client(503), FailureKind.Transient },
        { "ClientModel 400", Client(400), FailureKind.Permanent },
        { "ClientModel 401", Client(401), FailureKind.Permanent },
        { "ClientModel 403", Client(403), FailureKind.Permanent },
        { "ClientModel 404", Client(404), FailureKind.Permanent },
        { "ClientModel 422", Client(422), FailureKind.Permanent },
        { "Anthropic 429", new AnthropicRateLimitException { StatusCode = HttpStatusCode.TooManyRequests, ResponseBody = "{}" }, FailureKind.Transient },
        { "Anthropic 500", new Anthropic5xxException { StatusCode = HttpStatusCode.InternalServerError, ResponseBody = "{}" }, FailureKind.Transient },
        { "Anthropic 529", new Anthropic5xxException { StatusCode = (HttpStatusCode)529, ResponseBody = "{}" }, FailureKind.Transient },
        { "Anthropic 408", new Anthropic4xxException { StatusCode = HttpStatusCode.RequestTimeout, ResponseBody = "{}" }, FailureKind.Transient },
        { "Anthropic I/O", new AnthropicIOException("I/O exception", new HttpRequestException("reset")), FailureKind.Transient },
        { "Anthropic 400", new AnthropicBadRequestException { StatusCode = HttpStatusCode.BadRequest, ResponseBody = "{}" }, FailureKind.Permanent },
        { "Anthropic 401", new AnthropicUnauthorizedException { StatusCode = HttpStatusCode.Unauthorized, ResponseBody = "{}" }, FailureKind.Permanent },
        { "Anthropic 403", new AnthropicForbiddenException { StatusCode = HttpStatusCode.Forbidden, ResponseBody = "{}" }, FailureKind.Permanent },
        { "Anthropic 404", new AnthropicNotFoundException { StatusCode = HttpStatusCode.NotFound, ResponseBody = "{}" }, FailureKind.Permanent },
        { "Anthropic 409", new Anthropic4xxException { StatusCode = HttpStatusCode.Conflict, ResponseBody = "{}" }, FailureKind.Permanent },
        { "Anthropic 422", new AnthropicUnprocessableEntityException { StatusCode = HttpStatusCode.UnprocessableEntity, ResponseBody = "{}" }, FailureKind.Permanent },
        { "caller cancelled", new OperationCanceledException(), FailureKind.Unknown },
        { "a bug", new InvalidOperationException(), FailureKind.Unknown },
        { "wrapped 503", new InvalidOperationException("wrapped", Client(503)), FailureKind.Transient },
        { "wrapped twice", new InvalidOperationException("outer", new ApplicationException("middle", new IOException("reset"))), FailureKind.Transient },
        { "aggregate", new AggregateException(new ArgumentException(), Http(HttpStatusCode.BadGateway)), FailureKind.Transient },
        { "aggregate permanent first", new AggregateException(Client(401), Client(503)), FailureKind.Permanent },
        { "permanent around transient", new ClientResultException("bad", new FakePipelineResponse(400), new IOException()), FailureKind.Permanent },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Classifies_every_listed_failure_and_looks_inside_wrappers(string failure, Exception exception, FailureKind kind)
    {
        // The failure's name travels with the verdict, so a wrong one names the row.
        Assert.Equal((failure, kind), (failure, FailureInspection.Classify(exception, teamClassifier: null, Time).Kind));
        Assert.Equal((failure, kind == FailureKind.Transient), (failure, TransientFailure.IsTransient(exception)));
    }

    [Fact]
    public void A_chain_deeper_than_the_walk_is_not_followed_to_its_end()
    {
        Exception chain = new IOException("at the bottom");
        for (int i = 0; i < 20; i++)
        {
            chain = new InvalidOperationException("wrapper " + i, chain);
        }

        Assert.Equal(FailureKind.Unknown, FailureInspection.Classify(chain, teamClassifier: null, Time).Kind);
    }

    [Fact]
    public void Retry_after_ms_of_a_ClientModel_response_is_the_delay()
    {
        FailureClassification verdict = FailureInspection.Classify(Client(429, ("retry-after-ms", "1500")), teamClassifier: null, Time);

        Assert.Equal(FailureClassification.Transient(TimeSpan.FromMilliseconds(1500)), verdict);
    }

    [Fact]
    public void Retry_after_seconds_of_a_ClientModel_response_is_the_delay()
    {
        FailureClassification verdict = FailureInspection.Classify(Client(503, ("Retry-After", "7")), teamClassifier: null, Time);

        Assert.Equal(TimeSpan.FromSeconds(7), verdict.RetryAfter);
    }

    [Fact]
    public void Retry_after_ms_wins_over_Retry_After_when_both_are_sent()
    {
        FailureClassification verdict = FailureInspection.Classify(Client(429, ("Retry-After", "7"), ("retry-after-ms", "250")), teamClassifier: null, Time);

        Assert.Equal(TimeSpan.FromMilliseconds(250), verdict.RetryAfter);
    }

    [Fact]
    public void A_Retry_After_on_a_permanent_failure_does_not_make_it_transient()
    {
        Assert.Equal(FailureClassification.Permanent, FailureInspection.Classify(Client(400, ("Retry-After", "1")), teamClassifier: null, Time));
    }

    [Fact]
    public void The_team_classifier_overrides_the_built_in_verdict()
    {
        FailureClassifier team = failure => failure is ClientResultException { Status: 400 }
            ? FailureClassification.Transient(TimeSpan.FromSeconds(3))
            : FailureClassification.Unknown;

        Assert.Equal(FailureClassification.Transient(TimeSpan.FromSeconds(3)), FailureInspection.Classify(Client(400), team, Time));
        Assert.Equal(FailureKind.Transient, FailureInspection.Classify(Client(503), team, Time).Kind);
    }

    [Fact]
    public void The_team_classifier_is_asked_about_exceptions_found_inside_the_failure()
    {
        FailureClassifier team = failure => failure is FormatException ? FailureClassification.Permanent : FailureClassification.Unknown;

        Exception wrapped = new InvalidOperationException("outer", new FormatException("model spoke nonsense"));

        Assert.Equal(FailureKind.Permanent, FailureInspection.Classify(wrapped, team, Time).Kind);
    }

    [Fact]
    public void The_team_classifier_can_make_a_built_in_transient_failure_permanent()
    {
        FailureClassifier team = failure => failure is HttpRequestException { StatusCode: HttpStatusCode.TooManyRequests }
            ? FailureClassification.Permanent
            : FailureClassification.Unknown;

        Assert.Equal(FailureKind.Permanent, FailureInspection.Classify(Http(HttpStatusCode.TooManyRequests), team, Time).Kind);
    }

    [Fact]
    public void A_transient_verdict_refuses_a_negative_delay() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => FailureClassification.Transient(TimeSpan.FromMilliseconds(-1)));

    private static HttpRequestException Http(HttpStatusCode status) => new("failed", null, status);

    private static ClientResultException Client(int status, params (string Name, string Value)[] headers) =>
        new(new FakePipelineResponse(status, headers));
}
