namespace Boxlite.Runtime;

/// <summary>The outcome of <see cref="IBoxRuntime.RunToCompletionAsync"/>: a box run from start to removal.</summary>
public sealed record BoxRunResult
{
    /// <summary>The id the box had (it is removed by now).</summary>
    public required BoxId Id { get; init; }

    /// <summary>Exit code of the command (128 + signal when a signal ended it, e.g. 137 when it was reaped).</summary>
    public required int ExitCode { get; init; }

    /// <summary>
    /// Everything the command wrote to stdout, one <c>\n</c> after each line, up to
    /// <see cref="BoxliteOptions.MaxLogBytes"/> (the box's log cap: beyond it output is dropped).
    /// </summary>
    public required string StandardOutput { get; init; }

    /// <summary>Everything the command wrote to stderr, capped as <see cref="StandardOutput"/>.</summary>
    public required string StandardError { get; init; }

    /// <summary>From the start of the box until its exit was noticed.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>
    /// The reap that ended the box: after a command that ended by itself it kills nothing (what it left behind, if
    /// anything); after a timeout it names the stop's reap.
    /// </summary>
    public required ReapReport Reap { get; init; }

    /// <summary>True when the timeout elapsed first and the box was stopped (stop signal, grace, reap).</summary>
    public bool TimedOut { get; init; }
}

/// <summary>What <see cref="IBoxRuntime.PruneAsync"/> removed.</summary>
/// <param name="Removed">The boxes removed (each was exited or failed).</param>
/// <param name="EmptyParentsRemoved">The home's parent containments left empty that were removed (Linux: its parent cgroups).</param>
public sealed record PruneReport(IReadOnlyList<BoxId> Removed, int EmptyParentsRemoved);
