using System.Diagnostics;
using System.Globalization;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Reaping;

namespace Boxlite.Runtime.Benchmarks;

/// <summary>One (size, method) row of the reap benchmark.</summary>
internal sealed record ReapRow(int Size, string Method, double MedianMs, double P95Ms, int Survivors, double? ReaperMedianMs);

/// <summary>
/// Reaps the same tree shape (a nested PID namespace holding the processes) by five methods, interleaved:
/// boxlite (RemoveAsync(force) of a detached box), boxlite-freeze-kill (the same with the reaper for kernels without
/// cgroup.kill), floor (cgroup.kill and the wait for populated 0, nothing else), process-kill-tree (.NET's
/// Process.Kill(entireProcessTree: true)) and recorded-pid (SIGKILL of the launcher's pid only, as BoxLite did
/// before reaping by cgroup).
/// </summary>
internal sealed class ReapBenchmark(BenchEnvironment env)
{
    public const string BoxLite = "boxlite";
    public const string BoxLiteFreezeKill = "boxlite-freeze-kill";
    public const string Floor = "floor";
    public const string ProcessKillTree = "process-kill-tree";
    public const string RecordedPid = "recorded-pid";

    private static readonly string[] Methods = [BoxLite, BoxLiteFreezeKill, Floor, ProcessKillTree, RecordedPid];

    private BoxRuntime? _freezeKill;
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// A tree of exactly <paramref name="size"/> processes: <c>unshare</c>, the init of its new PID namespace and
    /// <c>size - 2</c> sleeps in that namespace (1: a lone sleep; 2: unshare and a sleeping init).
    /// </summary>
    public static string TreeScript(int size) => size switch
    {
        < 1 => throw new ArgumentOutOfRangeException(nameof(size)),
        1 => "exec sleep 1000",
        2 => "exec unshare --pid --fork --mount-proc sleep 1000",
        _ => string.Create(CultureInfo.InvariantCulture, $"exec unshare --pid --fork --mount-proc sh -c 'i=0; while [ $i -lt {size - 2} ]; do sleep 1000 & i=$((i+1)); done; wait'"),
    };

    /// <summary>Reaps trees of each size <paramref name="reps"/> times by each of <paramref name="methods"/> (default: all).</summary>
    public async Task<List<ReapRow>> RunAsync(IReadOnlyList<int> sizes, int reps, Action<string> progress, IReadOnlyList<string>? methods = null)
    {
        var chosen = methods ?? Methods;
        var samples = new Dictionary<(int, string), List<double>>();
        var reaperSamples = new Dictionary<(int, string), List<double>>();
        var survivors = new Dictionary<(int, string), int>();
        foreach (var size in sizes)
        {
            foreach (var method in chosen)
            {
                samples[(size, method)] = [];
                reaperSamples[(size, method)] = [];
                survivors[(size, method)] = 0;
            }
        }

        // One untimed round first: JIT, SQLite and the page cache warm up on it.
        for (var rep = -1; rep < reps; rep++)
        {
            foreach (var size in sizes)
            {
                for (var m = 0; m < chosen.Count; m++)
                {
                    // Rotate the order each repetition so no method always follows the same one.
                    var method = chosen[(m + Math.Max(rep, 0)) % chosen.Count];
                    var (ms, left, reaperMs) = await ReapOnceAsync(size, method);
                    if (rep < 0)
                    {
                        continue;
                    }

                    samples[(size, method)].Add(ms);
                    survivors[(size, method)] = Math.Max(survivors[(size, method)], left);
                    if (reaperMs is { } r)
                    {
                        reaperSamples[(size, method)].Add(r);
                    }
                }

                progress(string.Create(CultureInfo.InvariantCulture, $"reap: size {size}, repetition {rep + 1}/{reps}"));
            }
        }

        return [.. sizes.SelectMany(size => chosen.Select(method => new ReapRow(
            size,
            method,
            Stats.Round(Stats.Median(samples[(size, method)])),
            Stats.Round(Stats.Percentile(samples[(size, method)], 0.95)),
            survivors[(size, method)],
            method is BoxLite or BoxLiteFreezeKill ? Stats.Round(Stats.Median(reaperSamples[(size, method)])) : null)))];
    }

    /// <summary>Builds one tree, reaps it by <paramref name="method"/>; returns the time of the reap call and the survivors it left.</summary>
    private async Task<(double Ms, int Survivors, double? ReaperMs)> ReapOnceAsync(int size, string method)
    {
        if (method is BoxLite or BoxLiteFreezeKill)
        {
            return await ReapBoxAsync(size, method == BoxLite
                ? env.Runtime
                : _freezeKill ??= env.Open("freeze-kill", "freeze-kill", reaper: CgroupFreezeKillReaper.MethodName));
        }

        var cgroup = env.NewCgroup();
        using var process = cgroup.Launch(TreeScript(size), env.Marker);
        try
        {
            await BenchEnvironment.WaitForTreeAsync(cgroup.Count, size, BuildTimeout);
            var clock = Stopwatch.StartNew();
            switch (method)
            {
                case Floor:
                    await cgroup.KillAsync(TimeSpan.FromSeconds(30));
                    break;
                case ProcessKillTree:
                    process.Kill(entireProcessTree: true);
                    break;
                case RecordedPid:
                    _ = Libc.kill(process.Id, LinuxSignals.Kill);
                    break;
            }

            var ms = clock.Elapsed.TotalMilliseconds;
            return (ms, await SurvivorsAsync(), null);
        }
        finally
        {
            // Survivors of the weaker methods are cleaned up by the cgroup they were started in.
            await cgroup.KillAsync(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync();
            await cgroup.RemoveAsync();
        }
    }

    private async Task<(double Ms, int Survivors, double? ReaperMs)> ReapBoxAsync(int size, BoxRuntime runtime)
    {
        var box = await runtime.RunAsync(env.Box(TreeScript(size)));
        var command = Path.Combine(env.BoxCgroup(runtime, box.Id), "cmd");
        await BenchEnvironment.WaitForTreeAsync(() => BenchEnvironment.ProcessesBelow(command).Count, size, BuildTimeout);

        var clock = Stopwatch.StartNew();
        var report = await runtime.RemoveAsync(box.Id.Value, force: true);
        var ms = clock.Elapsed.TotalMilliseconds;

        if (report is null)
        {
            throw new InvalidOperationException($"RemoveAsync(force) of {box.Id} reported {report?.ToString() ?? "nothing"}");
        }

        return (ms, await SurvivorsAsync(), report.Duration.TotalMilliseconds);
    }

    /// <summary>Marked processes still alive once the kill has had time to land (until none are left or their count holds still).</summary>
    private async Task<int> SurvivorsAsync()
    {
        var clock = Stopwatch.StartNew();
        var last = -1;
        var stable = Stopwatch.StartNew();
        while (true)
        {
            var now = env.Marked().Count;
            if (now == 0 || clock.ElapsedMilliseconds > 3000 || (now == last && stable.ElapsedMilliseconds > 300))
            {
                return now;
            }

            if (now != last)
            {
                last = now;
                stable.Restart();
            }

            await Task.Delay(20);
        }
    }
}
