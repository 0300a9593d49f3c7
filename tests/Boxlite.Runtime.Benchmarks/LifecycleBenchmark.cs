using System.Diagnostics;
using System.Globalization;

namespace Boxlite.Runtime.Benchmarks;

/// <summary>Results of the lifecycle benchmark.</summary>
internal sealed record LifecycleResult(
    int Count,
    int Parallel,
    double BoxMedianMs,
    double BoxP95Ms,
    double ProcessMedianMs,
    double ProcessP95Ms,
    double OverheadMs,
    double Ratio,
    double BoxesPerSecond,
    double ProcessesPerSecond,
    double CreateMedianMs,
    double StartMedianMs,
    double ExitMedianMs,
    double RemoveMedianMs);

/// <summary>
/// A trivial box (<c>/bin/true</c>) through create, start, exit and remove, against <c>Process.Start</c> and
/// <c>WaitForExit</c> of the same command: one at a time (latency) and <c>parallel</c> at once (throughput).
/// </summary>
internal sealed class LifecycleBenchmark(BenchEnvironment env)
{
    private const string Command = "/bin/true";

    public async Task<LifecycleResult> RunAsync(int count, int parallel, Action<string> progress)
    {
        // Warm-up: JIT, SQLite, the page cache.
        for (var i = 0; i < 5; i++)
        {
            await BoxOnceAsync();
            ProcessOnce();
        }

        foreach (var phase in _phases)
        {
            phase.Clear();
        }

        // Interleaved in blocks of ten, so drift in the machine's load hits both alike.
        var boxes = new List<double>(count);
        var processes = new List<double>(count);
        while (boxes.Count < count)
        {
            for (var i = 0; i < 10 && boxes.Count < count; i++)
            {
                boxes.Add(await BoxOnceAsync());
            }

            for (var i = 0; i < 10 && processes.Count < count; i++)
            {
                processes.Add(ProcessOnce());
            }

            if (boxes.Count % 50 == 0)
            {
                progress(string.Create(CultureInfo.InvariantCulture, $"lifecycle: {boxes.Count}/{count} sequential"));
            }
        }

        var phases = _phases.Select(p => Stats.Round(Stats.Median(p))).ToArray();
        var boxRate = await ThroughputAsync(count, parallel, async () => await BoxOnceAsync());
        progress("lifecycle: parallel boxes done");
        var processRate = await ThroughputAsync(count, parallel, () => Task.FromResult(ProcessOnce()));
        var boxMedian = Stats.Median(boxes);
        var processMedian = Stats.Median(processes);
        return new LifecycleResult(
            count,
            parallel,
            Stats.Round(boxMedian),
            Stats.Round(Stats.Percentile(boxes, 0.95)),
            Stats.Round(processMedian),
            Stats.Round(Stats.Percentile(processes, 0.95)),
            Stats.Round(boxMedian - processMedian),
            Stats.Round(boxMedian / processMedian),
            Math.Round(boxRate, 1),
            Math.Round(processRate, 1),
            phases[0],
            phases[1],
            phases[2],
            phases[3]);
    }

    private readonly List<double>[] _phases = [[], [], [], []];

    private async Task<double> BoxOnceAsync()
    {
        var clock = Stopwatch.StartNew();
        var box = await env.Runtime.CreateAsync(new BoxOptions { Command = Command });
        var created = clock.Elapsed.TotalMilliseconds;
        await box.StartAsync();
        var started = clock.Elapsed.TotalMilliseconds;
        var code = await box.WaitAsync();
        var exited = clock.Elapsed.TotalMilliseconds;
        await env.Runtime.RemoveAsync(box.Id.Value);
        var ms = clock.Elapsed.TotalMilliseconds;
        lock (_phases)
        {
            _phases[0].Add(created);
            _phases[1].Add(started - created);
            _phases[2].Add(exited - started);
            _phases[3].Add(ms - exited);
        }

        return code == 0 ? ms : throw new InvalidOperationException($"{Command} exited {code} in box {box.Id}");
    }

    private static double ProcessOnce()
    {
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(new ProcessStartInfo(Command) { UseShellExecute = false })!;
        process.WaitForExit();
        var ms = clock.Elapsed.TotalMilliseconds;
        return process.ExitCode == 0 ? ms : throw new InvalidOperationException($"{Command} exited {process.ExitCode}");
    }

    /// <summary>Runs <paramref name="count"/> operations on <paramref name="parallel"/> workers; returns operations per second.</summary>
    private static async Task<double> ThroughputAsync(int count, int parallel, Func<Task<double>> operation)
    {
        var remaining = count;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(worker => Task.Run(async () =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                _ = await operation();
            }
        })));
        return count / clock.Elapsed.TotalSeconds;
    }
}
