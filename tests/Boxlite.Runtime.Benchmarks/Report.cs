using System.Globalization;
using System.Text;
using Boxlite.Runtime.Benchmarks.Peers;
using static Boxlite.Runtime.Benchmarks.Stats;

namespace Boxlite.Runtime.Benchmarks;

/// <summary>Markdown tables of the results, with the targets they are held against.</summary>
internal static class Report
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static void Reap(StringBuilder o, IReadOnlyList<ReapRow> rows, int reps)
    {
        o.AppendLine(C, $"### Reap (median of {reps} repetitions; time from the call to its return)");
        o.AppendLine();
        o.AppendLine("| processes | method | median ms | p95 ms | survivors | × floor |");
        o.AppendLine("|---:|---|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var floor = rows.Single(r => r.Size == row.Size && r.Method == ReapBenchmark.Floor).MedianMs;
            o.AppendLine(C, $"| {row.Size} | {row.Method} | {Ms(row.MedianMs)} | {Ms(row.P95Ms)} | {row.Survivors} | {Ratio(row.MedianMs / floor)} |");
        }

        o.AppendLine();
        foreach (var box in rows.Where(r => r.ReaperMedianMs is not null))
        {
            o.AppendLine(C, $"- {box.Size} processes: {box.Method} {Ms(box.MedianMs)} ms, of which the reaper (kill, wait for populated 0, rmdir) {Ms(box.ReaperMedianMs ?? 0)} ms");
        }

        if (rows.SingleOrDefault(r => r.Size == 1000 && r.Method == ReapBenchmark.BoxLite) is { } thousand)
        {
            var floor = rows.Single(r => r.Size == 1000 && r.Method == ReapBenchmark.Floor).MedianMs;
            o.AppendLine(C, $"- target, 1,000 processes: ≤ 1.1× floor, 0 survivors → {Ratio(thousand.MedianMs / floor)}, {thousand.Survivors} survivors: {Verdict(thousand.MedianMs <= 1.1 * floor && thousand.Survivors == 0)}");
        }
    }

    public static void Peers(StringBuilder o, PeersResult r)
    {
        o.AppendLine(C, $"### Boxes beside their peers ({r.Count} rounds, interleaved; load average {r.LoadBefore} before, {r.LoadAfter} after)");
        o.AppendLine();
        o.AppendLine("| what | median ms | p95 ms | CPU ms, median (user + system) |");
        o.AppendLine("|---|---:|---:|---:|");
        foreach (var l in r.Latencies)
        {
            o.AppendLine(C, $"| {l.What} | {Ms(l.MedianMs)} | {Ms(l.P95Ms)} | {(l.CpuMedianMs is { } cpu ? Ms(cpu) : "–")} |");
        }

        o.AppendLine(C, $"| throughput, {r.Parallel} concurrent: boxes run to completion (create + start + exit + remove) | {r.BoxesPerSecond.ToString("0.0", C)}/s | | |");
        o.AppendLine(C, $"| throughput, {r.Parallel} concurrent: Process.Start + wait | {r.ProcessesPerSecond.ToString("0.0", C)}/s | | |");
        if (r.Cli is null)
        {
            o.AppendLine();
            o.AppendLine("The NativeAOT CLI was not measured: build it with `bash eng/publish-aot.sh` (or pass `--cli PATH`).");
        }

        o.AppendLine();
        o.AppendLine("**Targets**, each against its baseline from this run:");
        o.AppendLine();
        o.AppendLine("| target | measured | baseline | result | limit | |");
        o.AppendLine("|---|---:|---:|---:|---:|---|");
        foreach (var t in r.Targets)
        {
            var (unit, result, limit) = t.Kind switch
            {
                "ratio" => (" ms", t.Result is { } x ? Ratio(x) : "–", "≤ " + Ratio(t.Limit)),
                "over" => (" ms", t.Result is { } x ? "+" + Ms(x) + " ms" : "–", "≤ +" + Ms(t.Limit) + " ms"),
                "at-most" => (" ms", t.Result is { } x ? Ms(x) + " ms" : "–", "≤ " + Ms(t.Limit) + " ms"),
                _ => ("/s", t.Result is { } x ? x.ToString("0.0", C) + "/s" : "–", "≥ " + t.Limit.ToString("0", C) + "/s"),
            };
            var measured = t.Measured is { } m ? (unit == "/s" ? m.ToString("0.0", C) : Ms(m)) + unit : "–";
            var baseline = t.Baseline is { } b ? (unit == "/s" ? b.ToString("0.0", C) : Ms(b)) + unit : "–";
            var verdict = t.Met is { } met ? Verdict(met) + (t.Note is { } note ? $" ({note})" : "") : t.Note ?? "not measured";
            o.AppendLine(C, $"| {t.Target} | {measured} | {baseline} | {result} | {limit} | {verdict} |");
        }

        o.AppendLine();
        o.AppendLine(C, $"**Where the time of one box goes** (library, /bin/true; {r.PhaseSamples} boxes of the rounds above):");
        o.AppendLine();
        o.AppendLine("| phase | median ms | p95 ms |");
        o.AppendLine("|---|---:|---:|");
        foreach (var p in r.Phases)
        {
            o.AppendLine(C, $"| {p.Phase} | {Ms(p.MedianMs)} | {Ms(p.P95Ms)} |");
        }

        o.AppendLine();
        o.AppendLine(C, $"Store calls per box: {r.StoreWritesPerBox.ToString("0.#", C)} writes (insert, update, delete), {r.StoreReadsPerBox.ToString("0.#", C)} reads.");
    }

    public static void Store(StringBuilder o, StoreResult r)
    {
        o.AppendLine(C, $"### Store: the 5 writes of a box's lifecycle, {r.Boxes} boxes on {r.Parallel} concurrent workers of one process");
        o.AppendLine();
        o.AppendLine("| box lifecycles per second | write median ms | write p95 ms | write max ms |");
        o.AppendLine("|---:|---:|---:|---:|");
        o.AppendLine(C, $"| {r.BoxesPerSecond.ToString("0.0", C)} | {Ms(r.WriteMedianMs)} | {Ms(r.WriteP95Ms)} | {Ms(r.WriteMaxMs)} |");
    }

    public static void Scale(StringBuilder o, ScaleResult r)
    {
        o.AppendLine(C, $"### Scale: {r.Boxes} running boxes, {r.Records} records");
        o.AppendLine();
        o.AppendLine("| measure | value | target |");
        o.AppendLine("|---|---:|---|");
        o.AppendLine(C, $"| start {r.Boxes} boxes (4 at a time) | {r.StartAllSeconds.ToString("0.00", C)} s | |");
        o.AppendLine(C, $"| ListAsync with {r.Boxes} running, median (p95) | {Ms(r.ListMedianMs)} ({Ms(r.ListP95Ms)}) ms | < 50 ms: {Verdict(r.ListMedianMs < 50)} |");
        o.AppendLine(C, $"| box monitor RSS | {Kb(r.MonitorRssKb)} | ≤ 2 MB: {Verdict(r.MonitorRssKb <= 2048)} |");
        o.AppendLine(C, $"| processes of the box machinery per box (the monitor) | {r.OverheadProcesses} | |");
        o.AppendLine(C, $"| their RSS, summed (shared pages counted in each) | {Kb(r.OverheadRssKb)} | |");
        o.AppendLine(C, $"| their PSS, summed (shared pages divided among sharers) | {Kb(r.OverheadPssKb)} | |");
        o.AppendLine(C, $"| host memory per box (MemAvailable drop / boxes; noisy) | {Kb(r.HostMemoryPerBoxKb)} | |");
        o.AppendLine(C, $"| runtime process RSS per box it started | {Kb(r.RuntimeMemoryPerBoxKb)} | |");
        o.AppendLine(C, $"| remove {r.Boxes} running boxes with force (4 at a time) | {r.RemoveAllSeconds.ToString("0.00", C)} s | |");
        o.AppendLine(C, $"| RecoverAsync, {r.Records} final records | {Ms(r.RecoverFinalMedianMs)} ms | < 1 s: {Verdict(r.RecoverFinalMedianMs < 1000)} |");
        o.AppendLine(C, $"| RecoverAsync, {r.Records} Running records of a crashed host (each finalized) | {Ms(r.RecoverCrashedMedianMs)} ms | < 1 s: {Verdict(r.RecoverCrashedMedianMs < 1000)} |");
    }

    private static string Kb(double kb) => kb >= 1024 ? (kb / 1024).ToString("0.00", C) + " MB" : kb.ToString("0", C) + " kB";

    private static string Verdict(bool met) => met ? "met" : "**missed**";
}
