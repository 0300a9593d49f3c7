using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Boxlite.Runtime.Benchmarks.Phases;

namespace Boxlite.Runtime.Benchmarks.Peers;

/// <summary>Median and p95 of one measure, in milliseconds; for a program, also its median CPU time (user + system, with its descendants).</summary>
internal sealed record Latency(string Key, string What, double MedianMs, double P95Ms, double? CpuMedianMs, int Count);

/// <summary>One phase of a box's life: median and p95 over the boxes whose calls followed the expected path.</summary>
internal sealed record PhaseTime(string Phase, double MedianMs, double P95Ms);

/// <summary>One target of the project, held against its baseline measured in the same run.</summary>
/// <param name="Kind"><c>ratio</c> (measured / baseline ≤ limit), <c>over</c> (measured − baseline ≤ limit ms),
/// <c>at-most</c> (measured ≤ limit ms) or <c>at-least</c> (measured ≥ limit per second).</param>
internal sealed record TargetResult(string Target, string Kind, double? Measured, double? Baseline, double? Result, double Limit, bool? Met, string? Note = null);

/// <summary>Results of the peers benchmark.</summary>
internal sealed record PeersResult(
    int Count,
    int Parallel,
    int ListedBoxes,
    string LoadBefore,
    string LoadAfter,
    string? Cli,
    IReadOnlyList<Latency> Latencies,
    double BoxesPerSecond,
    double ProcessesPerSecond,
    IReadOnlyList<PhaseTime> Phases,
    int PhaseSamples,
    double StoreWritesPerBox,
    double StoreReadsPerBox,
    ReapRow? Reap,
    ReapRow? ReapFloor,
    IReadOnlyList<TargetResult> Targets);

/// <summary>
/// Boxes beside the tools a user would compare them with, measured in one run and interleaved so that the machine's
/// load hits all alike: <c>Process.Start</c> + wait, <c>unshare --pid --fork</c>, <c>bwrap</c> alone, <c>runc run</c>
/// of a busybox bundle, the library (create + start + exit + remove), the NativeAOT CLI (<c>run --rm</c>, and
/// <c>ls</c> with many boxes), exec into a running box, throughput of boxes run to completion, and a reap against its
/// floor. Each of the project's targets is printed against its baseline from the same run.
/// </summary>
internal sealed class PeersBenchmark(BenchEnvironment env)
{
    public const string Process = "process";
    public const string Unshare = "unshare";
    public const string Bwrap = "bwrap";
    public const string Runc = "runc";
    public const string Library = "library";
    public const string CliRun = "cli-run";
    public const string Exec = "exec";
    public const string CliList = "cli-ls";

    private const string True = "/bin/true";

    private readonly PhaseRecorder _recorder = new();
    private readonly ConcurrentBag<double[]> _phases = [];
    private readonly ConcurrentBag<BoxId> _recorded = [];

    public async Task<PeersResult> RunAsync(int count, int parallel, int listed, int reapSize, string? cli, Action<string> progress)
    {
        var loadBefore = LoadAverage();
        var runtime = env.Open("peers", "peers", recorder: _recorder);
        var cliRuntime = env.Open("cli", "cli");
        string[] cliArgs = ["--home", cliRuntime.Options.HomeDirectory, "--cgroup-parent", env.CgroupParentOf(cliRuntime)];
        using var bundle = await RuncBundle.CreateAsync(env.Parent);
        var bwrap = Tools.Find("bwrap") ?? throw new InvalidOperationException("bwrap is not installed (apt-get install bubblewrap)");
        var unshare = Tools.Find("unshare") ?? throw new InvalidOperationException("unshare is not installed (apt-get install util-linux)");
        var running = await runtime.RunAsync(env.Box("exec sleep 1000"));

        var samples = new Dictionary<string, List<RunTime>>();
        var measures = new List<(string Key, Func<Task<RunTime>> Once)>
        {
            (Process, () => Tools.TimeAsync(True, [])),
            (Unshare, () => Tools.TimeAsync(unshare, ["--pid", "--fork", True])),
            (Bwrap, () => Tools.TimeAsync(bwrap, ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--", True])),
            (Runc, () => { var (file, args) = bundle.NextRun(); return Tools.TimeAsync(file, args); }),
            (Library, async () => new RunTime(await BoxOnceAsync(runtime, recordPhases: true), null)),
            (Exec, async () => new RunTime(await ExecOnceAsync(running), null)),
        };
        if (cli is not null)
        {
            measures.Add((CliRun, () => Tools.TimeAsync(cli, [.. cliArgs, "run", "--rm", "--", True])));
        }

        // Warm-up rounds (JIT, SQLite, the page cache), then rounds in a rotating order.
        for (var round = -3; round < count; round++)
        {
            for (var i = 0; i < measures.Count; i++)
            {
                var (key, once) = measures[(i + Math.Max(round, 0)) % measures.Count];
                var time = await once();
                if (round >= 0)
                {
                    (samples.TryGetValue(key, out var list) ? list : samples[key] = []).Add(time);
                }
            }

            if (round == -1)
            {
                _phases.Clear();
                _recorded.Clear();
            }
            else if (round >= 0 && (round + 1) % 10 == 0)
            {
                progress(string.Create(CultureInfo.InvariantCulture, $"peers: {round + 1}/{count} rounds"));
            }
        }

        var store = _recorded.Select(id => PhaseBreakdown.StoreCalls(_recorder.CallsOf(id))).ToList();
        var throughputCount = Math.Max(count, 4 * parallel);
        var boxRate = await ThroughputAsync(throughputCount, parallel, () => BoxOnceAsync(runtime, recordPhases: false));
        var processRate = await ThroughputAsync(throughputCount, parallel, async () => (await Tools.TimeAsync(True, [])).WallMs);
        progress("peers: throughput done");
        _ = await runtime.RemoveAsync(running.Id.Value, force: true);

        if (cli is not null)
        {
            samples[CliList] = await ListWithManyBoxesAsync(cliRuntime, cli, cliArgs, listed, Math.Min(count, 30), progress);
        }

        ReapRow? reap = null, floor = null;
        if (reapSize > 0)
        {
            var rows = await new ReapBenchmark(env).RunAsync([reapSize], Math.Max(3, Math.Min(count, 10)), progress, [ReapBenchmark.BoxLite, ReapBenchmark.Floor]);
            reap = rows.Single(r => r.Method == ReapBenchmark.BoxLite);
            floor = rows.Single(r => r.Method == ReapBenchmark.Floor);
        }

        var latencies = samples.Select(s =>
        {
            var wall = s.Value.Select(t => t.WallMs).ToList();
            var cpu = s.Value.Where(t => t.CpuMs is not null).Select(t => t.CpuMs!.Value).ToList();
            return new Latency(s.Key, Describe(s.Key, listed), Stats.Round(Stats.Median(wall)), Stats.Round(Stats.Percentile(wall, 0.95)), cpu.Count > 0 ? Stats.Round(Stats.Median(cpu)) : null, wall.Count);
        }).OrderBy(l => Array.IndexOf(Order, l.Key)).ToList();
        var phases = PhaseBreakdown.Names.Select((name, i) =>
        {
            var values = _phases.Select(p => p[i]).ToList();
            return new PhaseTime(name, Stats.Round(Stats.Median(values)), Stats.Round(Stats.Percentile(values, 0.95)));
        }).ToList();
        return new PeersResult(
            count,
            parallel,
            listed,
            loadBefore,
            LoadAverage(),
            cli,
            latencies,
            Math.Round(boxRate, 1),
            Math.Round(processRate, 1),
            phases,
            _phases.Count,
            store.Average(s => s.Writes),
            store.Average(s => s.Reads),
            reap,
            floor,
            Targets(latencies, boxRate, processRate, parallel, listed, reap, floor, cli is not null));
    }

    private static readonly string[] Order = [Process, Unshare, Bwrap, Runc, Library, Exec, CliRun, CliList];

    private static string Describe(string key, int listed) => key switch
    {
        Process => "Process.Start + wait of /bin/true",
        Unshare => "unshare --pid --fork /bin/true",
        Bwrap => "bwrap alone (boxlite's flags) /bin/true",
        Runc => "runc run /bin/true (busybox bundle)",
        Library => "library: create + start + exit + remove of /bin/true",
        Exec => "library: exec /bin/true into a running box",
        CliRun => "CLI (NativeAOT): boxlite run --rm -- /bin/true",
        CliList => string.Create(CultureInfo.InvariantCulture, $"CLI (NativeAOT): boxlite ls, {listed} running boxes"),
        _ => key,
    };

    private static List<TargetResult> Targets(List<Latency> l, double boxRate, double processRate, int parallel, int listed, ReapRow? reap, ReapRow? floor, bool hasCli)
    {
        double? Median(string key) => l.FirstOrDefault(x => x.Key == key)?.MedianMs;
        double? Cpu(string key) => l.FirstOrDefault(x => x.Key == key)?.CpuMedianMs;
        var process = Median(Process)!.Value;
        const string noCli = "the NativeAOT CLI was not built: bash eng/publish-aot.sh";
        var targets = new List<TargetResult>();
        if (hasCli)
        {
            targets.Add(Ratio("CLI run --rm -- /bin/true vs runc run", Median(CliRun)!.Value, Median(Runc)!.Value, 1.25) with
            {
                Note = string.Create(CultureInfo.InvariantCulture, $"CPU: {Cpu(CliRun):0.0} vs {Cpu(Runc):0.0} ms, {Cpu(CliRun) / Cpu(Runc):0.00}×"),
            });
            targets.Add(AtMost(string.Create(CultureInfo.InvariantCulture, $"CLI ls with {listed} boxes"), Median(CliList)!.Value, process, 20) with
            {
                Note = string.Create(CultureInfo.InvariantCulture, $"CPU: {Cpu(CliList):0.0} ms"),
            });
        }
        else
        {
            targets.Add(new("CLI run --rm -- /bin/true vs runc run", "ratio", null, Median(Runc), null, 1.25, null, noCli));
            targets.Add(new("CLI ls", "at-most", null, null, null, 20, null, noCli));
        }

        targets.Add(Over("library create + start + exit + remove vs Process.Start + wait", Median(Library)!.Value, process, 10));
        targets.Add(Over("exec into a running box vs Process.Start + wait", Median(Exec)!.Value, process, 5));
        targets.Add(new(
            string.Create(CultureInfo.InvariantCulture, $"boxes run to completion per second, {parallel} concurrent (baseline: processes per second)"),
            "at-least", Math.Round(boxRate, 1), Math.Round(processRate, 1), Math.Round(boxRate, 1), 250, boxRate >= 250));
        if (reap is not null && floor is not null)
        {
            targets.Add(Ratio(string.Create(CultureInfo.InvariantCulture, $"reap of a {reap.Size}-process tree vs the floor (cgroup.kill + populated 0)"), reap.MedianMs, floor.MedianMs, 1.1));
        }

        return targets;

        static TargetResult Ratio(string what, double measured, double baseline, double limit) =>
            new(what, "ratio", measured, baseline, Math.Round(measured / baseline, 2), limit, measured / baseline <= limit);

        static TargetResult Over(string what, double measured, double baseline, double limit) =>
            new(what, "over", measured, baseline, Stats.Round(measured - baseline), limit, measured - baseline <= limit);

        static TargetResult AtMost(string what, double measured, double baseline, double limit) =>
            new(what, "at-most", measured, baseline, measured, limit, measured <= limit);
    }

    private async Task<double> BoxOnceAsync(BoxRuntime runtime, bool recordPhases)
    {
        var begin = Stopwatch.GetTimestamp();
        var box = await runtime.CreateAsync(new BoxOptions { Command = True });
        var created = Stopwatch.GetTimestamp();
        await box.StartAsync();
        var started = Stopwatch.GetTimestamp();
        var code = await box.WaitAsync();
        var exited = Stopwatch.GetTimestamp();
        await runtime.RemoveAsync(box.Id.Value);
        var removed = Stopwatch.GetTimestamp();
        if (code != 0)
        {
            throw new InvalidOperationException($"{True} exited {code} in box {box.Id}");
        }

        if (recordPhases)
        {
            _recorded.Add(box.Id);
        }

        if (recordPhases && PhaseBreakdown.Of(_recorder.CallsOf(box.Id), new(begin, created, started, exited, removed)) is { } phases)
        {
            _phases.Add(phases);
        }

        return Stopwatch.GetElapsedTime(begin, removed).TotalMilliseconds;
    }

    private static async Task<double> ExecOnceAsync(IBox box)
    {
        var clock = Stopwatch.StartNew();
        var result = await box.ExecAsync(True, []);
        var ms = clock.Elapsed.TotalMilliseconds;
        return result.ExitCode == 0 ? ms : throw new InvalidOperationException($"exec {True} exited {result.ExitCode}");
    }

    /// <summary>Starts <paramref name="boxes"/> detached boxes on the CLI's home, times <c>boxlite ls</c>, removes them.</summary>
    private static async Task<List<RunTime>> ListWithManyBoxesAsync(BoxRuntime runtime, string cli, string[] cliArgs, int boxes, int reps, Action<string> progress)
    {
        var ids = new ConcurrentBag<BoxId>();
        var remaining = boxes;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                ids.Add((await runtime.RunAsync(new BoxOptions { Command = "/bin/sleep", Args = ["1000"], Detached = true })).Id);
            }
        })));
        progress(string.Create(CultureInfo.InvariantCulture, $"peers: {boxes} boxes running for ls"));

        var times = new List<RunTime>();
        for (var rep = -2; rep < reps; rep++)
        {
            var time = await Tools.TimeAsync(cli, [.. cliArgs, "ls"]);
            if (rep >= 0)
            {
                times.Add(time);
            }
        }

        var lines = 0;
        _ = await Tools.RunAsync(cli, [.. cliArgs, "ls"], text => lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        if (lines != boxes + 1)
        {
            throw new InvalidOperationException($"boxlite ls listed {lines - 1} boxes, not {boxes}");
        }

        var all = ids.ToList();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < all.Count; i += 4)
            {
                _ = await runtime.RemoveAsync(all[i].Value, force: true);
            }
        })));
        return times;
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

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[..3] is var l ? string.Join(' ', l) : "";
}
