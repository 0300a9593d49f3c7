using System.Collections.Concurrent;
using System.Diagnostics;
using Boxlite.Runtime.State;

namespace Boxlite.Runtime.Benchmarks;

/// <summary>Results of the store benchmark.</summary>
internal sealed record StoreResult(int Boxes, int Parallel, double BoxesPerSecond, double WriteMedianMs, double WriteP95Ms, double WriteMaxMs);

/// <summary>
/// The store writes of a box's lifecycle (insert; Created → claimed → Running → Exited; delete), for
/// <c>boxes</c> boxes on <c>parallel</c> concurrent workers of one process on one store: how many lifecycles a
/// second the store alone allows, and how long one write waits (a write that met SQLite's busy handler shows in p95).
/// </summary>
internal sealed class StoreBenchmark(BenchEnvironment env)
{
    public async Task<StoreResult> RunAsync(int boxes, int parallel)
    {
        using var store = SqliteBoxStore.Open(Path.Combine(env.Home, "store"));
        var writes = new ConcurrentBag<double>();
        async Task<T> Timed<T>(Func<Task<T>> write)
        {
            var start = Stopwatch.GetTimestamp();
            var result = await write();
            writes.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            return result;
        }

        async Task LifecycleAsync()
        {
            var info = await Timed(() => store.InsertAsync(new BoxInfo { Id = BoxId.New(), State = BoxState.Created, Options = env.Box("true"), CreatedAt = DateTimeOffset.UtcNow }));
            info = await Timed(() => store.TryUpdateAsync(info with { State = BoxState.Starting })) ?? throw new InvalidOperationException("claim lost");
            info = await Timed(() => store.TryUpdateAsync(info with { State = BoxState.Running })) ?? throw new InvalidOperationException("start lost");
            info = await Timed(() => store.TryUpdateAsync(info with { State = BoxState.Exited, ExitCode = 0 })) ?? throw new InvalidOperationException("exit lost");
            if (!await Timed(() => store.TryDeleteAsync(info.Id, info.Version)))
            {
                throw new InvalidOperationException("delete lost");
            }
        }

        for (var i = 0; i < 20; i++)
        {
            await LifecycleAsync();
        }

        writes.Clear();
        var remaining = boxes;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(worker => Task.Run(async () =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                await LifecycleAsync();
            }
        })));
        var rate = boxes / clock.Elapsed.TotalSeconds;
        var all = writes.ToList();
        return new StoreResult(boxes, parallel, Math.Round(rate, 1), Stats.Round(Stats.Median(all)), Stats.Round(Stats.Percentile(all, 0.95)), Stats.Round(all.Max()));
    }
}
