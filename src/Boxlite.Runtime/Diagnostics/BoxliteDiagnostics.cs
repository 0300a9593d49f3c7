using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Boxlite.Runtime;

/// <summary>Names of the library's telemetry sources.</summary>
public static class BoxliteDiagnostics
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> and of the <see cref="System.Diagnostics.ActivitySource"/>.</summary>
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
    internal static readonly Meter Meter = new(SourceName);
    internal static readonly Counter<long> BoxesStarted = Meter.CreateCounter<long>(BoxesStartedCounter, "{box}", "Boxes started");
    internal static readonly Counter<long> Reaps = Meter.CreateCounter<long>(ReapsCounter, "{reap}", "Reaps performed");
    internal static readonly Histogram<double> ReapDuration = Meter.CreateHistogram<double>(ReapDurationHistogram, "ms", "Time to a confirmed reap");
    internal static readonly Counter<long> ProcessesKilled = Meter.CreateCounter<long>(ProcessesKilledCounter, "{process}", "Processes killed by reaps");
}
