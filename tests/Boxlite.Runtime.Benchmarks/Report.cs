using System.Globalization;
using System.Text;
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
        foreach (var box in rows.Where(r => r.Method == ReapBenchmark.BoxLite))
        {
            o.AppendLine(C, $"- {box.Size} processes: boxlite {Ms(box.MedianMs)} ms, of which the reaper (cgroup.kill, wait for populated 0, rmdir) {Ms(box.ReaperMedianMs ?? 0)} ms");
        }

        if (rows.SingleOrDefault(r => r.Size == 1000 && r.Method == ReapBenchmark.BoxLite) is { } thousand)
        {
            var floor = rows.Single(r => r.Size == 1000 && r.Method == ReapBenchmark.Floor).MedianMs;
            o.AppendLine(C, $"- target, 1,000 processes: ≤ 1.25× floor and ≤ 50 ms, 0 survivors → {Ratio(thousand.MedianMs / floor)}, {Ms(thousand.MedianMs)} ms, {thousand.Survivors} survivors: {Verdict(thousand.MedianMs <= 1.25 * floor && thousand.MedianMs <= 50 && thousand.Survivors == 0)}");
        }
    }

    public static void Lifecycle(StringBuilder o, LifecycleResult r)
    {
        o.AppendLine(C, $"### Lifecycle of a trivial box (/bin/true), {r.Count} each");
        o.AppendLine();
        o.AppendLine("| | median ms | p95 ms | per second, " + r.Parallel.ToString(C) + " in parallel |");
        o.AppendLine("|---|---:|---:|---:|");
        o.AppendLine(C, $"| box: create + start + exit + remove | {Ms(r.BoxMedianMs)} | {Ms(r.BoxP95Ms)} | {r.BoxesPerSecond.ToString("0.0", C)} |");
        o.AppendLine(C, $"| Process.Start + WaitForExit | {Ms(r.ProcessMedianMs)} | {Ms(r.ProcessP95Ms)} | {r.ProcessesPerSecond.ToString("0.0", C)} |");
        o.AppendLine();
        o.AppendLine(C, $"- box phases (medians): create {Ms(r.CreateMedianMs)} ms, start {Ms(r.StartMedianMs)} ms, exit seen {Ms(r.ExitMedianMs)} ms, remove {Ms(r.RemoveMedianMs)} ms");
        o.AppendLine(C, $"- overhead per box: {Ms(r.OverheadMs)} ms ({Ratio(r.Ratio)} bare Process.Start); target ≤ 10 ms: {Verdict(r.OverheadMs <= 10)}");
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
        o.AppendLine(C, $"| overhead processes per box (monitor, log readers, cats) | {r.OverheadProcesses} | |");
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
