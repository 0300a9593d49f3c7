using Microsoft.Extensions.Logging;

namespace Boxlite.Runtime;

/// <summary>
/// Reconciles records with reality (G4): a loop of "reconcile this record" (<see cref="BoxLifecycle.ReconcileAsync"/>:
/// live detached boxes stay Running; exits nobody saw are recorded; attached boxes of a dead owner are reaped; starts
/// and stops whose process died are finished), then containment and directories with no record go.
/// </summary>
internal sealed class Recovery(BoxRuntime runtime)
{
    private int _running;
    private int _exited;
    private int _orphans;
    private int _halfCreated;
    private int _finishedStops;
    private int _unrecorded;
    private int _autoRemoved;
    private int _unknown;

    public async Task<RecoveryReport> RunAsync(CancellationToken cancellationToken)
    {
        var records = await runtime.Store.ListAsync(cancellationToken).ConfigureAwait(false);
        foreach (var record in records)
        {
            try
            {
                await ReconcileAsync(record, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BoxliteException or IOException or UnauthorizedAccessException)
            {
                Log.RecoveryProblem(runtime.Logger, record.Id, e.Message, e);
            }
        }

        await ReapUnrecordedAsync(records.Select(r => r.Id).ToHashSet(), cancellationToken).ConfigureAwait(false);
        var report = new RecoveryReport
        {
            StillRunning = _running,
            MarkedExited = _exited,
            ReapedOrphans = _orphans,
            CleanedHalfCreated = _halfCreated,
            FinishedStops = _finishedStops,
            ReapedUnrecorded = _unrecorded,
            AutoRemoved = _autoRemoved,
            MarkedUnknown = _unknown,
        };
        Log.Recovered(runtime.Logger, _running, _exited, _orphans, _halfCreated, _finishedStops, _unrecorded, _autoRemoved, _unknown);
        return report;
    }

    private async Task ReconcileAsync(BoxInfo info, CancellationToken cancellationToken)
    {
        var (after, what) = await runtime.Lifecycle.ReconcileAsync(info, cancellationToken).ConfigureAwait(false);
        var removed = after is null;
        switch (what)
        {
            case Reconciled.StillRunning:
                _running++;
                return;
            case Reconciled.HalfStartedCleaned:
                _halfCreated++;
                break;
            case Reconciled.OrphanReaped:
                _orphans++;
                break;
            case Reconciled.StopFinished:
                _finishedStops++;
                break;
            case Reconciled.ExitNoticed when after?.State == BoxState.Unknown:
                _unknown++;
                return;
            case Reconciled.ExitNoticed:
                _exited++;
                break;
            case Reconciled.Nothing when info.State == BoxState.Unknown:
                _unknown++;
                return;
        }

        if (removed && info.Options.AutoRemove)
        {
            _autoRemoved++;
        }
    }

    /// <summary>
    /// Reaps containment and deletes directories that have no record. A box in <paramref name="listed"/> had a record
    /// when recovery began and needs no second look (its containment goes before its record); any other is looked up
    /// afresh, since it may have been created since.
    /// </summary>
    private async Task ReapUnrecordedAsync(HashSet<BoxId> listed, CancellationToken cancellationToken)
    {
        async Task<bool> IsRecordedAsync(BoxId id) =>
            listed.Contains(id) || await runtime.Store.GetAsync(id, cancellationToken).ConfigureAwait(false) is not null;

        foreach (var id in await runtime.Platform.ListContainedBoxesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await IsRecordedAsync(id).ConfigureAwait(false))
            {
                continue;
            }

            // Containment is made only after the record exists and removed before it goes: this one is a leak.
            var ghost = new BoxInfo { Id = id, State = BoxState.Unknown, Options = new BoxOptions { Command = "unknown" }, CreatedAt = runtime.Time.GetUtcNow() };
            try
            {
                await runtime.Lifecycle.ReapAsync(ghost, cancellationToken).ConfigureAwait(false);
                _unrecorded++;
            }
            catch (BoxliteException e)
            {
                Log.RecoveryProblem(runtime.Logger, id, e.Message, e);
            }
        }

        foreach (var directory in Directory.EnumerateDirectories(runtime.BoxesDirectory))
        {
            if (BoxId.TryParse(Path.GetFileName(directory), out var id) && !await IsRecordedAsync(id).ConfigureAwait(false))
            {
                runtime.DeleteDirectory(id);
            }
        }
    }
}
