using System.Diagnostics.CodeAnalysis;

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
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The input has no default: no call is ambiguous.")]
    Task<IBox> RunAsync(BoxOptions options, CancellationToken cancellationToken = default);

    /// <summary>Creates and starts a box whose command reads <paramref name="stdin"/> (see <see cref="IBox.StartAsync(BoxInput?, CancellationToken)"/>).</summary>
    /// <param name="options">The box.</param>
    /// <param name="stdin">What the command reads on its stdin, fed from this process (null: <c>/dev/null</c>).</param>
    /// <param name="cancellationToken">Cancels the creation or the start.</param>
    /// <exception cref="PlatformCapabilityException"><paramref name="stdin"/> is given and the platform cannot give a box's command a stdin (macOS).</exception>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The input has no default: no call is ambiguous.")]
    Task<IBox> RunAsync(BoxOptions options, BoxInput? stdin, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a box from creation to removal and collects what it did: its exit code, its stdout and stderr (each up to
    /// <see cref="BoxliteOptions.MaxLogBytes"/>, the box's log cap), how long it ran and the reap that ended it. The box
    /// is always removed, whatever happens. Its options' <see cref="BoxOptions.AutoRemove"/> does not apply.
    /// </summary>
    /// <param name="options">The box.</param>
    /// <param name="stdin">
    /// What the command reads on its stdin, fed from this process then closed (null: <c>/dev/null</c>); see
    /// <see cref="IBox.StartAsync(BoxInput?, CancellationToken)"/>.
    /// </param>
    /// <param name="timeout">
    /// How long the command may run (null: without limit); then the box is stopped (stop signal, its grace period, reap)
    /// and the result says <see cref="BoxRunResult.TimedOut"/>.
    /// </param>
    /// <param name="cancellationToken">Reaps the box at once, removes it and throws <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="PlatformCapabilityException"><paramref name="stdin"/> is given and the platform cannot give a box's command a stdin (macOS).</exception>
    Task<BoxRunResult> RunToCompletionAsync(BoxOptions options, BoxInput? stdin = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Finds a box by id, unique id prefix or name.</summary>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The overloads differ in the type of the box reference: no call is ambiguous.")]
    Task<IBox> GetAsync(string idOrName, CancellationToken cancellationToken = default);

    /// <summary>Finds a box by its id.</summary>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The overloads differ in the type of the box reference: no call is ambiguous.")]
    Task<IBox> GetAsync(BoxId id, CancellationToken cancellationToken = default);

    /// <summary>Every box on this home, oldest first, with exits noticed.</summary>
    Task<IReadOnlyList<BoxInfo>> ListAsync(CancellationToken cancellationToken);

    /// <summary>The boxes on this home that <paramref name="filter"/> keeps (null: every box), oldest first, with exits noticed.</summary>
    /// <exception cref="ArgumentException">A label selector has no key.</exception>
    Task<IReadOnlyList<BoxInfo>> ListAsync(BoxFilter? filter = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes a box: record, directory and containment. A live box is refused unless <paramref name="force"/>,
    /// which reaps it first. Returns the reap report when something was reaped.
    /// </summary>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The overloads differ in the type of the box reference: no call is ambiguous.")]
    Task<ReapReport?> RemoveAsync(string idOrName, bool force = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes the box <paramref name="id"/>: record, directory and containment. A live box is refused unless
    /// <paramref name="force"/>, which reaps it first. Returns the reap report when something was reaped.
    /// </summary>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The overloads differ in the type of the box reference: no call is ambiguous.")]
    Task<ReapReport?> RemoveAsync(BoxId id, bool force = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes every exited or failed box (of those <paramref name="filter"/> keeps), exits nobody recorded yet noticed
    /// first, then the home's parent containments left empty. The records of boxes whose host died go this way.
    /// </summary>
    Task<PruneReport> PruneAsync(BoxFilter? filter = null, CancellationToken cancellationToken = default);

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

    /// <summary>Stops whose stopping process died half-way, finished: the box reaped and its exit recorded.</summary>
    public int FinishedStops { get; init; }

    /// <summary>Containments (cgroups) with no record that were reaped and removed.</summary>
    public int ReapedUnrecorded { get; init; }

    /// <summary>Exited auto-remove boxes that were removed.</summary>
    public int AutoRemoved { get; init; }

    /// <summary>Boxes left <see cref="BoxState.Unknown"/>.</summary>
    public int MarkedUnknown { get; init; }
}
