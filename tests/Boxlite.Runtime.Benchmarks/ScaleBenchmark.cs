using System.Diagnostics;
using System.Globalization;
using Boxlite.Runtime.Linux.Processes;

namespace Boxlite.Runtime.Benchmarks;

/// <summary>Results of the scale benchmark.</summary>
internal sealed record ScaleResult(
    int Boxes,
    double StartAllSeconds,
    double ListMedianMs,
    double ListP95Ms,
    double MonitorRssKb,
    int OverheadProcesses,
    double OverheadRssKb,
    double OverheadPssKb,
    double HostMemoryPerBoxKb,
    double RuntimeMemoryPerBoxKb,
    double RemoveAllSeconds,
    int Records,
    double RecoverFinalMedianMs,
    double RecoverCrashedMedianMs);

/// <summary>
/// Many boxes at once: <c>ListAsync</c> latency with <c>boxes</c> running, what one box costs in memory (its
/// monitor, and all its overhead processes: monitor, log readers and their <c>cat</c>s), and recovery over
/// <c>records</c> records (all final; and all Running with a dead monitor, as after a host crash).
/// </summary>
internal sealed class ScaleBenchmark(BenchEnvironment env)
{
    private const int Workers = 4;

    public async Task<ScaleResult> RunAsync(int boxes, int records, Action<string> progress)
    {
        var runtime = env.Runtime;
        await WarmUpAsync();
        var availableBefore = MemAvailableKb();
        var selfBefore = SelfRssKb();

        var clock = Stopwatch.StartNew();
        var ids = new System.Collections.Concurrent.ConcurrentBag<BoxId>();
        var remaining = boxes;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                ids.Add((await runtime.RunAsync(env.Box("exec sleep 1000"))).Id);
            }
        })));
        var startAll = clock.Elapsed.TotalSeconds;
        progress(string.Create(CultureInfo.InvariantCulture, $"scale: {boxes} boxes running after {startAll:0.0} s"));

        // Let every box reach its steady state: its command (the one process carrying the marker) exec'd.
        await BenchEnvironment.WaitForTreeAsync(() => env.Marked().Count, boxes, TimeSpan.FromMinutes(2));
        var hostPerBox = (availableBefore - MemAvailableKb()) / (double)boxes;
        var runtimePerBox = (SelfRssKb() - selfBefore) / (double)boxes;

        for (var i = 0; i < 5; i++)
        {
            _ = await runtime.ListAsync();
        }

        var lists = new List<double>();
        for (var i = 0; i < 30; i++)
        {
            clock.Restart();
            var list = await runtime.ListAsync();
            lists.Add(clock.Elapsed.TotalMilliseconds);
            if (list.Count(b => b.State == BoxState.Running) != boxes)
            {
                throw new InvalidOperationException($"ListAsync saw {list.Count} boxes, not {boxes} running");
            }
        }

        var monitorRss = new List<double>();
        var overheadCount = new List<double>();
        var overheadRss = new List<double>();
        var overheadPss = new List<double>();
        foreach (var info in await runtime.ListAsync())
        {
            // The box cgroup itself (not its cmd sub-cgroup) holds exactly the overhead processes.
            var overhead = BenchEnvironment.ProcessesBelow(env.BoxCgroup(runtime, info.Id))
                .Except(BenchEnvironment.ProcessesBelow(Path.Combine(env.BoxCgroup(runtime, info.Id), "cmd"))).ToList();
            monitorRss.Add(ReadKb($"/proc/{info.Monitor!.Pid}/status", "VmRSS:"));
            overheadCount.Add(overhead.Count);
            overheadRss.Add(overhead.Sum(p => ReadKb($"/proc/{p}/status", "VmRSS:")));
            overheadPss.Add(overhead.Sum(p => ReadKb($"/proc/{p}/smaps_rollup", "Pss:")));
        }

        progress("scale: removing");
        clock.Restart();
        var all = ids.ToList();
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < all.Count; i += Workers)
            {
                _ = await runtime.RemoveAsync(all[i].Value, force: true);
            }
        })));
        var removeAll = clock.Elapsed.TotalSeconds;

        progress("scale: recovery");
        var final = await RecoveryAsync(records, BoxState.Exited, reps: 5);
        var crashed = await RecoveryAsync(records, BoxState.Running, reps: 3);
        return new ScaleResult(
            boxes,
            Math.Round(startAll, 2),
            Stats.Round(Stats.Median(lists)),
            Stats.Round(Stats.Percentile(lists, 0.95)),
            Stats.Median(monitorRss),
            (int)Stats.Median(overheadCount),
            Stats.Median(overheadRss),
            Stats.Median(overheadPss),
            Math.Round(hostPerBox),
            Math.Round(runtimePerBox),
            Math.Round(removeAll, 2),
            records,
            Stats.Round(final),
            Stats.Round(crashed));
    }

    private async Task WarmUpAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            var box = await env.Runtime.RunAsync(env.Box("exec sleep 1000"));
            _ = await env.Runtime.ListAsync();
            _ = await env.Runtime.RemoveAsync(box.Id.Value, force: true);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    /// <summary>
    /// Median time of RecoverAsync by a fresh runtime over <paramref name="records"/> records in <paramref name="state"/>.
    /// Running records carry a monitor identity that matches no live process (pid 1 with another start time), so
    /// recovery finalizes each one: that kind is seeded afresh for every repetition.
    /// </summary>
    private async Task<double> RecoveryAsync(int records, BoxState state, int reps)
    {
        var times = new List<double>();
        var dead = new ProcessIdentity(1, -1, ProcFs.BootId);
        string? home = null;
        for (var rep = 0; rep < reps; rep++)
        {
            if (home is null || state == BoxState.Running)
            {
                home = string.Create(CultureInfo.InvariantCulture, $"recovery-{state}-{rep}");
                var seeder = env.Open("recovery", home, removeBoxesOnDispose: false);
                for (var i = 0; i < records; i++)
                {
                    _ = await seeder.Store.InsertAsync(new BoxInfo
                    {
                        Id = BoxId.New(),
                        State = state,
                        Options = env.Box("exec sleep 1000"),
                        CreatedAt = DateTimeOffset.UtcNow,
                        StartedAt = DateTimeOffset.UtcNow,
                        FinishedAt = state == BoxState.Exited ? DateTimeOffset.UtcNow : null,
                        ExitCode = state == BoxState.Exited ? 0 : null,
                        Monitor = dead,
                    });
                }
            }

            var recovering = env.Open("recovery", home, removeBoxesOnDispose: false);
            var clock = Stopwatch.StartNew();
            var report = await recovering.RecoverAsync();
            times.Add(clock.Elapsed.TotalMilliseconds);
            var expected = state == BoxState.Exited ? 0 : records;
            if (report.MarkedUnknown + report.MarkedExited != expected)
            {
                throw new InvalidOperationException($"recovery of {records} {state} records: {report}");
            }
        }

        return Stats.Median(times);
    }

    private static long MemAvailableKb() => ReadKb("/proc/meminfo", "MemAvailable:");

    private static long SelfRssKb()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return ReadKb("/proc/self/status", "VmRSS:");
    }

    /// <summary>The kB value of a <c>Key:   123 kB</c> line, or 0 when the file or key is gone.</summary>
    private static long ReadKb(string file, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(key.Length).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }
}
