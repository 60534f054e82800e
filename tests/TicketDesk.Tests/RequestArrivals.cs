using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace TicketDesk.Tests;

/// <summary>
/// Tells a test when its requests have reached their guarded call, so it can release the provider (or move the
/// clock) only once every request has joined the execution or merge window it is meant to join.
/// </summary>
/// <remarks>
/// It counts the POSTs (the guarded endpoints), runs first in the pipeline and reads the whole body into memory
/// before passing the request on. From there until the first wait nothing is asynchronous (binding reads the
/// buffered body, the call context middleware and the handler are synchronous up to the guarded call, which joins
/// its singleflight or merge window before it waits), so when <c>next</c> returns its pending task the request has
/// joined. One exception: the first requests of a host race to build the routing matcher and the losers wait for
/// the winner; <see cref="TicketDeskHost"/> sends a request before any test does, so that race is over.
/// </remarks>
internal sealed class RequestArrivals : IStartupFilter
{
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
    private int _arrived;

    public Task WhenArrived(int count)
    {
        lock (_waiters)
        {
            if (_arrived >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, reached));
            return reached.Task;
        }
    }

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            if (!HttpMethods.IsPost(context.Request.Method))
            {
                await nextMiddleware(context);
                return;
            }

            var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            body.Position = 0;
            context.Request.Body = body;
            Task pending = nextMiddleware(context);
            Arrive();
            await pending;
        });
        next(app);
    };

    private void Arrive()
    {
        lock (_waiters)
        {
            _arrived++;
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_arrived >= _waiters[i].Count)
                {
                    _waiters[i].Reached.SetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }
}
