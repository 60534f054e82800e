using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.MergeWindows;

/// <summary>A join only records its call: [MergeAppend] values are combined once, at the close.</summary>
public sealed partial class MergeAppendCostTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Joins_never_read_the_appended_values_and_the_close_reads_each_once()
    {
        var desk = new TicketDesk(new GuardRuntime(_time));
        var ids = Enumerable.Range(0, 1000).Select(i => new CountingIds(i)).ToArray();
        var calls = ids.Select(value => desk.TagAsync("t-1", "note " + value.Id, value)).ToArray();

        Assert.All(ids, value => Assert.Equal(0, value.Enumerations));
        _time.Advance(TimeSpan.FromSeconds(1));

        string answer = await calls[0].Within();
        Assert.All(ids, value => Assert.Equal(1, value.Enumerations));
        Assert.Equal(1, desk.Executions);
        Assert.Equal(string.Join(",", Enumerable.Range(0, 1000)), answer.Split('|')[1]);
        Assert.StartsWith("note 0 / note 1 / note 2", answer.Split('|')[0]);
        foreach (Task<string> call in calls)
        {
            Assert.Same(answer, await call.Within());
        }
    }

    [Fact]
    public async Task Ten_thousand_joins_call_the_merge_once_at_the_close_with_every_call_in_order()
    {
        // Combining at every join copied everything collected so far: n - 1 combines for n joins.
        const int Joins = 10_000;
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Fixed, 0, supersede: false);
        int merges = 0;
        string[]? merged = null;
        string Merge(IReadOnlyList<string> calls)
        {
            merges++;
            merged = calls.ToArray();
            return calls[^1];
        }

        var calls = Enumerable.Range(0, Joins)
            .Select(i => windows.JoinAsync("k", "m" + i, Merge, static (arguments, _) => ValueTask.FromResult(arguments), CancellationToken.None))
            .ToArray();
        Assert.Equal(0, merges);
        _time.Advance(TimeSpan.FromMilliseconds(100));

        await Task.WhenAll(calls).Within();
        Assert.Equal(1, merges);
        Assert.Equal(Enumerable.Range(0, Joins).Select(i => "m" + i), merged);
    }

    [Fact]
    public async Task The_merge_runs_once_per_execution_with_the_superseded_windows_calls_first()
    {
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Fixed, 0, supersede: true);
        var merges = new List<string[]>();
        string Merge(IReadOnlyList<string> calls)
        {
            merges.Add(calls.ToArray());
            return string.Join("+", calls);
        }

        var stale = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        int executions = 0;
        ValueTask<string> Execute(string arguments, CancellationToken token) =>
            Interlocked.Increment(ref executions) == 1 ? new ValueTask<string>(stale.Task.WaitAsync(token)) : ValueTask.FromResult(arguments);

        Task<string> a = windows.JoinAsync("k", "a", Merge, Execute, CancellationToken.None);
        Task<string> b = windows.JoinAsync("k", "b", Merge, Execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Task<string> c = windows.JoinAsync("k", "c", Merge, Execute, CancellationToken.None);
        Task<string> d = windows.JoinAsync("k", "d", Merge, Execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));

        Assert.Equal(new[] { new[] { "a", "b" }, new[] { "a", "b", "c", "d" } }, merges);
        foreach (Task<string> call in new[] { a, b, c, d })
        {
            Assert.Equal("a+b+c+d", await call.Within());
        }

        await Eventually.Until(() => windows.Count == 0, "the superseded execution has ended");
    }

    [Fact]
    public async Task Random_bursts_read_every_appended_value_once_per_execution_that_merged_it()
    {
        var random = new Random(20261203);
        var desk = new TicketDesk(new GuardRuntime(_time));
        var all = new List<CountingIds>();
        var calls = new List<Task<string>>();
        for (int burst = 0; burst < 50; burst++)
        {
            int size = random.Next(1, 400);
            var ids = Enumerable.Range(all.Count, size).Select(i => new CountingIds(i)).ToArray();
            all.AddRange(ids);
            calls.AddRange(ids.Select(value => desk.TagAsync("t-" + random.Next(0, 3), null, value)));
            Assert.All(ids, value => Assert.Equal(0, value.Enumerations));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        await Task.WhenAll(calls).Within();
        Assert.All(all, value => Assert.Equal(1, value.Enumerations));
    }

    /// <summary>A value of a [MergeAppend] parameter that counts how often it is read.</summary>
    private sealed class CountingIds(int id) : IEnumerable<int>
    {
        private int _enumerations;

        public int Id { get; } = id;

        public int Enumerations => Volatile.Read(ref _enumerations);

        public IEnumerator<int> GetEnumerator()
        {
            Interlocked.Increment(ref _enumerations);
            yield return Id;
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed partial class TicketDesk(GuardRuntime runtime)
    {
        private int _executions;

        public int Executions => Volatile.Read(ref _executions);

        [Guarded(Key = "{ticketId}", MergeWindowMs = 1000, TimeoutMs = 0, MaxRetries = 0)]
        public partial Task<string> TagAsync(string ticketId, [MergeAppend(Separator = " / ")] string? notes, [MergeAppend] IEnumerable<int> ids);

        private Task<string> TagCoreAsync(string ticketId, string? notes, IEnumerable<int> ids)
        {
            Interlocked.Increment(ref _executions);
            return Task.FromResult(notes + "|" + string.Join(",", ids));
        }
    }
}
