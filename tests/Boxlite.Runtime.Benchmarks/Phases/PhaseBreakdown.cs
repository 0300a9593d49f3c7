using System.Diagnostics;

namespace Boxlite.Runtime.Benchmarks.Phases;

/// <summary>The moments the benchmark saw around one box: before create, after create, start, wait and remove (Stopwatch ticks).</summary>
internal readonly record struct BoxMoments(long Begin, long Created, long Started, long Exited, long Removed);

/// <summary>Where the time of one box's create, start, exit and remove goes, from the calls its runtime made.</summary>
internal static class PhaseBreakdown
{
    public static readonly string[] Names =
    [
        "create: store insert",
        "create: rest (record, directory)",
        "start: claim (store)",
        "start: prepare (cgroups)",
        "start: launch (monitor spawn + handshake)",
        "start: verify (containment, identity)",
        "start: store (Running)",
        "start: rest (go)",
        "exit seen (command runs, monitor exits, noticed)",
        "finalize: reap",
        "finalize: store (Exited)",
        "finalize: rest (wait returns)",
        "remove: store",
        "remove: reap (idempotent)",
        "remove: rest (directory)",
    ];

    /// <summary>Milliseconds per phase (in <see cref="Names"/> order), or null when the calls do not follow the expected path.</summary>
    public static double[]? Of(IReadOnlyList<Call> calls, BoxMoments m)
    {
        static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
        static bool IsStore(Call c) => c.What.StartsWith("store.", StringComparison.Ordinal);
        double StoreIn(long from, long to) => calls.Where(c => IsStore(c) && c.Start >= from && c.End <= to).Sum(c => c.Ms);

        var prepare = calls.FirstOrDefault(c => c.What == PhaseRecorder.Prepare && c.Start >= m.Created);
        var verify = calls.FirstOrDefault(c => c.What == PhaseRecorder.Verify && c.Start >= prepare.End);
        var running = calls.FirstOrDefault(c => c.What == PhaseRecorder.Update && c.Start >= verify.End && c.End <= m.Started);
        var reap = calls.FirstOrDefault(c => c.What == PhaseRecorder.Reap && c.Start >= m.Started && c.End <= m.Exited);
        var exited = calls.FirstOrDefault(c => c.What == PhaseRecorder.Update && c.Start >= reap.End && c.End <= m.Exited);
        if (prepare.What is null || verify.What is null || running.What is null || reap.What is null || exited.What is null)
        {
            return null;
        }

        var createStore = StoreIn(m.Begin, m.Created);
        var removeStore = StoreIn(m.Exited, m.Removed);
        var removeReap = calls.Where(c => c.What == PhaseRecorder.Reap && c.Start >= m.Exited && c.End <= m.Removed).Sum(c => c.Ms);
        return
        [
            createStore,
            Ms(m.Begin, m.Created) - createStore,
            StoreIn(m.Created, prepare.Start),
            prepare.Ms,
            Ms(prepare.End, verify.Start),
            Ms(verify.Start, running.Start),
            running.Ms,
            Ms(running.End, m.Started),
            Ms(m.Started, reap.Start),
            reap.Ms,
            exited.Ms,
            Ms(exited.End, m.Exited),
            removeStore,
            removeReap,
            Ms(m.Exited, m.Removed) - removeStore - removeReap,
        ];
    }

    /// <summary>Store writes (insert, update, delete) and reads (get) made for one box.</summary>
    public static (int Writes, int Reads) StoreCalls(IReadOnlyList<Call> calls) =>
        (calls.Count(c => c.What is PhaseRecorder.Insert or PhaseRecorder.Update or PhaseRecorder.Delete),
         calls.Count(c => c.What == PhaseRecorder.Get));
}
