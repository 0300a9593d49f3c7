namespace Boxlite.Runtime;

/// <summary>Creates, finds and removes boxes on one home. Disposing it stops the attached boxes it started.</summary>
public interface IBoxRuntime : IAsyncDisposable
{
    /// <summary>The platform's active reaper and its guarantee.</summary>
    string ReaperName { get; }

    /// <summary>The guarantee of the active reaper.</summary>
    ReapGuarantee Guarantee { get; }

    /// <summary>Validates <paramref name="options"/> (nothing is created when they are invalid) and creates the box.</summary>
    Task<IBox> CreateAsync(BoxOptions options, CancellationToken cancellationToken = default);

    /// <summary>Creates and starts a box.</summary>
    Task<IBox> RunAsync(BoxOptions options, CancellationToken cancellationToken = default);

    /// <summary>Finds a box by id, unique id prefix or name.</summary>
    Task<IBox> GetAsync(string idOrName, CancellationToken cancellationToken = default);

    /// <summary>Every box on this home, oldest first, with exits noticed.</summary>
    Task<IReadOnlyList<BoxInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes a box: record, directory and containment. A live box is refused unless <paramref name="force"/>,
    /// which reaps it first. Returns the reap report when something was reaped.
    /// </summary>
    Task<ReapReport?> RemoveAsync(string idOrName, bool force = false, CancellationToken cancellationToken = default);

    /// <summary>Reconciles records with reality (also done when the runtime starts).</summary>
    Task<RecoveryReport> RecoverAsync(CancellationToken cancellationToken = default);
}

/// <summary>What a recovery pass found and did.</summary>
public sealed record RecoveryReport
{
    /// <summary>Live boxes that stay running.</summary>
    public int StillRunning { get; init; }

    /// <summary>Boxes whose exit was noticed and recorded.</summary>
    public int MarkedExited { get; init; }

    /// <summary>Attached boxes of a dead owner that were reaped.</summary>
    public int ReapedOrphans { get; init; }

    /// <summary>Half-created or half-started boxes cleaned up.</summary>
    public int CleanedHalfCreated { get; init; }

    /// <summary>Containments (cgroups) with no record that were reaped and removed.</summary>
    public int ReapedUnrecorded { get; init; }

    /// <summary>Exited auto-remove boxes that were removed.</summary>
    public int AutoRemoved { get; init; }

    /// <summary>Boxes left <see cref="BoxState.Unknown"/>.</summary>
    public int MarkedUnknown { get; init; }
}
