using System.Collections.Concurrent;
using System.Diagnostics;

namespace Boxlite.Runtime.Benchmarks.Phases;

/// <summary>One call the runtime made into its store or platform on behalf of a box: what, and when (Stopwatch ticks).</summary>
internal readonly record struct Call(string What, long Start, long End)
{
    public double Ms => (End - Start) * 1000.0 / Stopwatch.Frequency;
}

/// <summary>
/// The calls the runtime makes into its store and platform, by box, as the timed decorators report them. The runtime
/// itself is unchanged: the benchmark hands it decorated parts, so the phases come from the real code path.
/// </summary>
internal sealed class PhaseRecorder
{
    public const string Insert = "store.insert";
    public const string Get = "store.get";
    public const string Update = "store.update";
    public const string Delete = "store.delete";
    public const string Prepare = "platform.prepare";
    public const string Verify = "platform.verify";
    public const string Reap = "reaper.reap";

    private readonly ConcurrentDictionary<BoxId, ConcurrentQueue<Call>> _calls = new();

    /// <summary>Starts timing one call for <paramref name="id"/>; disposing the result records it.</summary>
    public Measurement Measure(BoxId id, string what) => new(this, id, what, Stopwatch.GetTimestamp());

    /// <summary>The calls made for <paramref name="id"/>, in the order they started.</summary>
    public List<Call> CallsOf(BoxId id) =>
        _calls.TryGetValue(id, out var calls) ? [.. calls.OrderBy(c => c.Start)] : [];

    private void Add(BoxId id, string what, long start) =>
        _calls.GetOrAdd(id, _ => new()).Enqueue(new Call(what, start, Stopwatch.GetTimestamp()));

    /// <summary>One call being timed.</summary>
    public readonly struct Measurement(PhaseRecorder recorder, BoxId id, string what, long start) : IDisposable
    {
        public void Dispose() => recorder.Add(id, what, start);
    }
}
