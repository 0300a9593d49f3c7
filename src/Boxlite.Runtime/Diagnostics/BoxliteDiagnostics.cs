using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Boxlite.Runtime;

/// <summary>Names of the library's telemetry sources.</summary>
public static class BoxliteDiagnostics
{
    /// <summary>
    /// The name of the <see cref="System.Diagnostics.Metrics.Meter"/> and of the <see cref="System.Diagnostics.ActivitySource"/>.
    /// With dependency injection the meter comes from the host's <see cref="IMeterFactory"/>; without, it is one static meter.
    /// </summary>
    public const string SourceName = "Boxlite.Runtime";

    /// <summary>Counter of boxes started.</summary>
    public const string BoxesStartedCounter = "boxlite.boxes.started";

    /// <summary>Counter of reaps, tagged with the method.</summary>
    public const string ReapsCounter = "boxlite.reaps";

    /// <summary>Histogram of reap durations in milliseconds.</summary>
    public const string ReapDurationHistogram = "boxlite.reap.duration";

    /// <summary>Counter of processes killed by reaps.</summary>
    public const string ProcessesKilledCounter = "boxlite.reap.processes_killed";

    internal static readonly ActivitySource ActivitySource = new(SourceName);
}

/// <summary>The runtime's instruments, on a meter of its host's <see cref="IMeterFactory"/> or on the static one.</summary>
internal sealed class BoxliteMetrics
{
    private BoxliteMetrics(Meter meter)
    {
        BoxesStarted = meter.CreateCounter<long>(BoxliteDiagnostics.BoxesStartedCounter, "{box}", "Boxes started");
        Reaps = meter.CreateCounter<long>(BoxliteDiagnostics.ReapsCounter, "{reap}", "Reaps performed");
        ReapDuration = meter.CreateHistogram<double>(BoxliteDiagnostics.ReapDurationHistogram, "ms", "Time to a confirmed reap");
        ProcessesKilled = meter.CreateCounter<long>(BoxliteDiagnostics.ProcessesKilledCounter, "{process}", "Processes killed by reaps");
    }

    /// <summary>The instruments without dependency injection: one meter for the process.</summary>
    public static BoxliteMetrics Shared { get; } = new(new Meter(BoxliteDiagnostics.SourceName));

    public Counter<long> BoxesStarted { get; }

    public Counter<long> Reaps { get; }

    public Histogram<double> ReapDuration { get; }

    public Counter<long> ProcessesKilled { get; }

    /// <summary>The instruments on the meter <paramref name="factory"/> gives (it owns and disposes that meter); without one, <see cref="Shared"/>.</summary>
    public static BoxliteMetrics From(IMeterFactory? factory) =>
        factory is null ? Shared : new(factory.Create(new MeterOptions(BoxliteDiagnostics.SourceName)));
}
