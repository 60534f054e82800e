using System;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Distribution;

/// <summary>
/// Shares the executions of the scenes that turn <see cref="Configuration.LlmSceneOptions.Distributed"/> on with the
/// other instances of a deployment (a package such as <c>LlmGuard.Redis</c> implements it); <c>AddLlmGuard()</c> gives
/// the runtime the one registered in the container.
/// </summary>
/// <remarks>
/// The runtime's own singleflight runs first: only the execution a key's local callers share reaches
/// <see cref="RunAsync{TResult}"/>, once per instance. Streams never do.
/// </remarks>
public interface IDistributedFlights
{
    /// <summary>
    /// Answers one execution of <paramref name="key"/>: either by running <paramref name="execute"/> on this instance,
    /// or with the answer another instance's execution of the same key produced.
    /// </summary>
    /// <typeparam name="TResult">The result of the guarded method.</typeparam>
    /// <param name="scene">The scene of the guarded method.</param>
    /// <param name="key">
    /// Identifies the execution across instances: the method's version (a hash of its signature, key template and result
    /// type, which the generator writes) and the guard key, which holds every argument the answer depends on. Equal keys
    /// of one scene mean interchangeable answers.
    /// </param>
    /// <param name="execute">
    /// Runs the execution here (attempts, fallback, cache store). Called at most once; its outcome, success or failure,
    /// is the call's outcome.
    /// </param>
    /// <param name="cancellationToken">Cancelled when every local caller of the execution left.</param>
    /// <returns>The answer.</returns>
    /// <remarks>
    /// An exception thrown before <paramref name="execute"/> was called (the shared store is unreachable, slow, or its
    /// wait ran out) makes the runtime run the execution on this instance, so no caller is lost to the hook.
    /// </remarks>
    ValueTask<TResult> RunAsync<TResult>(string scene, string key, Func<CancellationToken, ValueTask<TResult>> execute, CancellationToken cancellationToken);
}
