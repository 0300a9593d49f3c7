using Microsoft.Extensions.Logging;

namespace Boxlite.Runtime;

/// <summary>
/// Reconciles records with reality (G4): live detached boxes stay Running; exits nobody saw are recorded; attached
/// boxes of a dead owner are reaped; half-started boxes are cleaned; containment and directories with no record go.
/// </summary>
internal sealed class Recovery(BoxRuntime runtime)
{
    private int _running;
    private int _exited;
    private int _orphans;
    private int _halfCreated;
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
            ReapedUnrecorded = _unrecorded,
            AutoRemoved = _autoRemoved,
            MarkedUnknown = _unknown,
        };
        Log.Recovered(runtime.Logger, _running, _exited, _orphans, _halfCreated, _unrecorded, _autoRemoved, _unknown);
        return report;
    }

    private async Task ReconcileAsync(BoxInfo info, CancellationToken cancellationToken)
    {
        switch (info.State)
        {
            case BoxState.Created when info.StatusReason == BoxRuntime.StartingReason && !IsAlive(info.Owner):
                // Its starter died half-way: nothing of the command ran (no "go"); remove what was made.
                await runtime.ReapAsync(info, cancellationToken).ConfigureAwait(false);
                await runtime.Store.TryUpdateAsync(
                    info with { State = BoxState.Failed, StatusReason = "the runtime starting it died", FinishedAt = runtime.Time.GetUtcNow() },
                    cancellationToken).ConfigureAwait(false);
                _halfCreated++;
                return;

            case BoxState.Running or BoxState.Paused when !runtime.HasFinished(info):
                if (!info.Detached && !IsAlive(info.Owner))
                {
                    await new Box(runtime, info).StopAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                    _orphans++;
                    await CountFinalAsync(info.Id, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    _running++;
                }

                return;

            case BoxState.Running or BoxState.Paused:
                var finalized = await runtime.FinalizeExitAsync(info, cancellationToken).ConfigureAwait(false);
                Count(finalized, info.Options.AutoRemove);
                return;

            case BoxState.Stopping when !IsAlive(info.Owner):
                // The stopper died half-way: finish its work.
                await new Box(runtime, info).StopOwnedAsync(info, BoxState.Stopping, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                await CountFinalAsync(info.Id, cancellationToken).ConfigureAwait(false);
                return;

            case BoxState.Exited or BoxState.Failed when info.Options.AutoRemove:
                if (await runtime.AutoRemoveAsync(info, cancellationToken).ConfigureAwait(false) is null)
                {
                    _autoRemoved++;
                }

                return;

            case BoxState.Unknown:
                _unknown++;
                return;
        }

    }

    private async Task CountFinalAsync(BoxId id, CancellationToken cancellationToken)
    {
        var now = await runtime.Store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (now is null)
        {
            _autoRemoved++;
        }
    }

    private void Count(BoxInfo? finalized, bool autoRemove)
    {
        if (finalized is null)
        {
            _exited++;
            if (autoRemove)
            {
                _autoRemoved++;
            }
        }
        else if (finalized.State == BoxState.Unknown)
        {
            _unknown++;
        }
        else if (finalized.State == BoxState.Exited)
        {
            _exited++;
        }
    }

    private bool IsAlive(ProcessIdentity? identity) => identity is not null && runtime.Platform.IsAlive(identity);

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
                await runtime.ReapAsync(ghost, cancellationToken).ConfigureAwait(false);
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
