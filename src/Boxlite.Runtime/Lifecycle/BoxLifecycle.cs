using System.Collections.Concurrent;
using System.Diagnostics;
using Boxlite.Runtime.Launch;
using Boxlite.Runtime.Monitor;
using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;

namespace Boxlite.Runtime;

/// <summary>What a stop did: its reap, and the record it left (null when the box was auto-removed).</summary>
internal sealed record StopResult(ReapReport Report, BoxInfo? Final);

/// <summary>What reconciling one record did (see <see cref="BoxLifecycle.ReconcileAsync"/>).</summary>
internal enum Reconciled
{
    Nothing,
    StillRunning,
    ExitNoticed,
    OrphanReaped,
    HalfStartedCleaned,
    StopFinished,
    AutoRemoved,
}

/// <summary>
/// The one owner of every transition of a box: create, claim start, running, failed start, begin stop, complete stop,
/// exit noticed, pause and resume, remove, reconcile. Each is a compare-and-set on the record in one place here;
/// <see cref="Box"/> and <see cref="BoxRuntime"/> only ask. In this process one stop and one exit finalization run per
/// box at a time (later callers join them), and every outcome completes every waiter of the box (<see cref="Outcomes"/>).
/// </summary>
internal sealed class BoxLifecycle : IAsyncDisposable
{
    private static readonly TimeSpan PollMin = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan PollMax = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long an exit is given to be followed by the monitor's own exit (it records the status as its last act).</summary>
    private static readonly TimeSpan MonitorExitBound = TimeSpan.FromSeconds(1);

    private readonly BoxRuntime _runtime;
    private readonly ConcurrentDictionary<BoxId, (MonitorProcess Monitor, bool Detached)> _monitors = new();
    private readonly BackgroundWork _work = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Outcomes _outcomes = new();
    private readonly InFlight<StopResult> _stops;
    private readonly InFlight<BoxInfo?> _exits;

    public BoxLifecycle(BoxRuntime runtime)
    {
        _runtime = runtime;
        _stops = new InFlight<StopResult>(_work);
        _exits = new InFlight<BoxInfo?>(_work);
    }

    private IBoxStore Store => _runtime.Store;

    private IBoxPlatform Platform => _runtime.Platform;

    private TimeProvider Time => _runtime.Time;

    private ProcessIdentity Me => Platform.CurrentProcess;

    /// <summary>The outcome of <paramref name="id"/> as this process will see it (kept by a handle across an auto-remove).</summary>
    public Task<BoxOutcome?> OutcomeOf(BoxId id) => _outcomes.Of(id);

    /// <summary>
    /// The one answer to "has this box's exit happened?": its monitor is gone, or has written the exit status (its
    /// last act). Only meaningful for a Running or Paused record.
    /// </summary>
    public bool HasExited(BoxInfo info) =>
        info.Monitor is not { } monitor || !Platform.IsAlive(monitor) || ExitStatus.TryRead(_runtime.Context(info)) is not null;

    /// <summary>Create: validates everything (G5), then the record (Created), then the box directory.</summary>
    public async Task<BoxInfo> CreateAsync(BoxOptions options, CancellationToken cancellationToken)
    {
        BoxRuntime.ThrowIfInvalid(options.Validate());

        // The command must be there to run, before anything exists (by default it starts in a fresh, empty work directory).
        BoxRuntime.ThrowIfInvalid(BoxEnvironment.CommandProblems(options, options.Command, options.WorkingDirectory));
        Platform.EnsureSupported(options);
        BoxSignals.TryNormalize(options.StopSignal, out var signal);
        options = options with { StopSignal = signal! };

        var info = new BoxInfo
        {
            Id = BoxId.New(),
            Name = options.Name,
            State = BoxState.Created,
            Options = options,
            CreatedAt = Time.GetUtcNow(),
        };

        // Record first, directory second: a directory never exists without its record.
        info = await Store.InsertAsync(info, cancellationToken).ConfigureAwait(false);
        _runtime.Crash("create:after-insert");
        try
        {
            _runtime.CreateBoxDirectories(info.Id);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Store.TryDeleteAsync(info.Id, info.Version, CancellationToken.None).ConfigureAwait(false);
            throw new PlatformCapabilityException($"cannot create the box directory {_runtime.DirectoryOf(info.Id)}: {e.Message}", "make the Boxlite home writable", e);
        }

        Log.BoxCreated(_runtime.Logger, info.Id, options.Command, options.Isolation, options.Detached);
        return info;
    }

    /// <summary>Claim start (Created → Starting), containment, monitor, then Running; any failure → Failed.</summary>
    /// <param name="id">The box.</param>
    /// <param name="stdin">What the command reads, fed from this process (null: <c>/dev/null</c>).</param>
    /// <param name="cancellationToken">Cancels the start (the box is then Failed).</param>
    public async Task<BoxInfo> StartAsync(BoxId id, BoxInput? stdin, CancellationToken cancellationToken)
    {
        var current = await Store.GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw new BoxNotFoundException(id.Value);
        if (current.State != BoxState.Created)
        {
            throw new InvalidBoxStateException(id, current.State, current.State == BoxState.Starting ? "it is already being started" : "only a created box can be started");
        }

        // Compare-and-set: a concurrent starter loses here, before anything exists.
        var claimed = await Store.TryUpdateAsync(
            current with
            {
                State = BoxState.Starting,
                Holder = Me,
                Reaper = Platform.Reaper.Name,
                Containment = (Platform as IContainmentLocator)?.Locate(id),
            },
            cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidBoxStateException(id, current.State, "another caller changed it while starting");

        using var activity = BoxliteDiagnostics.ActivitySource.StartActivity("boxlite.start");
        activity?.SetTag("boxlite.box.id", id.Value);
        var context = _runtime.Context(claimed);
        MonitorProcess? monitor = null;
        BoxInfo running;
        try
        {
            _runtime.CreateBoxDirectories(id);
            var plan = await Platform.PrepareAsync(context, cancellationToken).ConfigureAwait(false);
            _runtime.Crash("start:after-prepare");
            monitor = await MonitorProcess.StartAsync(context, plan, _runtime.Options.MaxLogBytes, HandshakeTimeout, stdin, cancellationToken).ConfigureAwait(false);
            _runtime.Crash("start:after-launch");

            // G1: nothing of the command runs until the monitor is proven inside the containment.
            await Platform.VerifyContainedAsync(context, monitor.Pid, cancellationToken).ConfigureAwait(false);
            var identity = Platform.TryGetIdentity(monitor.Pid)
                ?? throw new BoxStartException(id, $"the box monitor (pid {monitor.Pid}) vanished during start");
            running = await Store.TryUpdateAsync(
                claimed with
                {
                    State = BoxState.Running,
                    Holder = null,
                    Monitor = identity,
                    Owner = claimed.Options.Detached ? null : Me,
                    StartedAt = Time.GetUtcNow(),
                },
                cancellationToken).ConfigureAwait(false)
                ?? throw new BoxStartException(id, "the record changed while starting");
            _runtime.Crash("start:after-running");

            // Kept until the box is final: for an attached box it holds the monitor's life line.
            _monitors[id] = (monitor, claimed.Options.Detached);
            monitor.Go(claimed.Options.Detached);
        }
        catch (Exception e)
        {
            _monitors.TryRemove(id, out _);
            monitor?.Abort();
            await FailStartAsync(id, e).ConfigureAwait(false);
            if (e is BoxliteException or OperationCanceledException)
            {
                throw;
            }

            throw new BoxStartException(id, e.Message, e);
        }

        WatchExit(running);
        _runtime.Metrics.BoxesStarted.Add(1);
        Log.BoxStarted(_runtime.Logger, id, monitor.Pid, Platform.Reaper.Name);
        return running;
    }

    /// <summary>Reads the record and notices an exit nobody recorded yet; null when the box is gone.</summary>
    public async Task<BoxInfo?> LookAsync(BoxId id, CancellationToken cancellationToken)
    {
        var record = await Store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            Observe(id, null);
            return null;
        }

        return await NoticeExitAsync(record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Exit noticed: a Running or Paused box whose exit happened is reaped of what is left and recorded Exited (Unknown
    /// when no status was written), its waiters complete, and an auto-remove box goes. Returns the record now (null once
    /// removed). One finalization per box runs in this process; callers join it.
    /// </summary>
    public async Task<BoxInfo?> NoticeExitAsync(BoxInfo info, CancellationToken cancellationToken)
    {
        var current = info.State is BoxState.Running or BoxState.Paused && HasExited(info)
            ? await _exits.RunOrJoin(info.Id, _ => FinalizeExitAsync(info.Id)).Task.WaitAsync(cancellationToken).ConfigureAwait(false)
            : info;
        Observe(info.Id, current);
        return current;
    }

    /// <summary>Every record (that <paramref name="filter"/> keeps), oldest first, with exits noticed.</summary>
    public async Task<IReadOnlyList<BoxInfo>> ListAsync(BoxFilter? filter, CancellationToken cancellationToken)
    {
        filter?.Validate();
        var records = await Store.ListAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<BoxInfo>(records.Count);
        foreach (var record in records)
        {
            if (filter is not null && !filter.MatchesRecord(record))
            {
                continue;
            }

            // An auto-removed box drops out of the list.
            if (await NoticeExitAsync(record, cancellationToken).ConfigureAwait(false) is { } current &&
                (filter?.States is null || filter.States.Contains(current.State)))
            {
                result.Add(current);
            }
        }

        return result;
    }

    /// <summary>
    /// Waits until the box reaches its outcome. In this process the outcome event wakes it; otherwise the exit of the
    /// box's monitor does (a platform notification, no polling), or of the process holding a stop. Only a box still
    /// being created or started in another process is looked at again on a short backoff: no event crosses processes.
    /// Every wake reconciles the record, so a start or stop whose process died is finished, not waited on.
    /// </summary>
    /// <exception cref="BoxNotFoundException">The box is gone and this process never saw its outcome.</exception>
    public async Task<BoxOutcome> WaitAsync(BoxId id, Task<BoxOutcome?> outcome, CancellationToken cancellationToken)
    {
        var delay = PollMin;
        while (true)
        {
            if (outcome.IsCompleted)
            {
                return await outcome.ConfigureAwait(false) ?? throw new BoxNotFoundException(id.Value);
            }

            var record = await Store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            var current = record is null ? null : (await ReconcileAsync(record, cancellationToken).ConfigureAwait(false)).After;
            if (current is null || Outcomes.IsOutcome(current.State))
            {
                Observe(id, current);
                if (current is not null)
                {
                    return new BoxOutcome(current, null);
                }
            }

            // A box gone while an operation of this process still finishes it: that operation completes the outcome.
            using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var wake = current?.State switch
            {
                BoxState.Running or BoxState.Paused when current.Monitor is { } monitor => Platform.WhenExitedAsync(monitor, stopWatching.Token),
                BoxState.Stopping => WhenStopMovesAsync(current, delay, Timeout.InfiniteTimeSpan, stopWatching.Token),
                _ => Task.Delay(delay, Time, stopWatching.Token),
            };
            delay = delay * 2 > PollMax ? PollMax : delay * 2;
            await Task.WhenAny(outcome, wake).ConfigureAwait(false);
            await stopWatching.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Stops the box: the stop signal, up to <paramref name="grace"/> (default: the box's stop timeout) for the command
    /// to exit, then the reap (G2). In this process concurrent stops of one box are one stop. When
    /// <paramref name="hurry"/> fires, the grace period ends and the tree is reaped at once: a stop is never left half
    /// done, so this never throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<StopResult> StopAsync(BoxId id, TimeSpan? grace, CancellationToken hurry)
    {
        var operation = _stops.RunOrJoin(id, ownHurry => StopWorkAsync(id, grace, ownHurry));
        using (hurry.Register(operation.Hurry))
        {
            return await operation.Task.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Running → Paused: every process of the box frozen. The record says Paused before anything freezes, and is taken
    /// back once the box is thawed again when the freeze fails: a record that says Running never hides a frozen box
    /// (a stop of a Running box does not thaw it, and a frozen command cannot act on its stop signal). Should this
    /// process die in between, the record says Paused over a running box, which a resume or a stop puts right.
    /// </summary>
    public async Task<BoxInfo> PauseAsync(BoxId id, CancellationToken cancellationToken)
    {
        var current = await RequireAsync(id, BoxState.Running, "only a running box can be paused", cancellationToken).ConfigureAwait(false);
        var paused = await Store.TryUpdateAsync(current with { State = BoxState.Paused }, cancellationToken).ConfigureAwait(false);
        if (paused is null)
        {
            var now = await LookAsync(id, cancellationToken).ConfigureAwait(false) ?? throw new BoxNotFoundException(id.Value);
            throw new InvalidBoxStateException(id, now.State, "its state changed while pausing");
        }

        try
        {
            await Platform.SetFrozenAsync(_runtime.Context(paused), true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A platform that cannot freeze froze nothing.
            if (e is PlatformCapabilityException || await TrySetFrozenAsync(paused, false).ConfigureAwait(false))
            {
                await TryUpdateQuietlyAsync(paused with { State = BoxState.Running }).ConfigureAwait(false);
            }

            throw;
        }

        return paused;
    }

    /// <summary>
    /// Paused → Running: the box thawed, then recorded Running. When the record cannot be written the box is frozen
    /// again, so a failed resume leaves it paused, as its record says.
    /// </summary>
    public async Task<BoxInfo> ResumeAsync(BoxId id, CancellationToken cancellationToken)
    {
        var current = await RequireAsync(id, BoxState.Paused, "only a paused box can be resumed", cancellationToken).ConfigureAwait(false);
        await Platform.SetFrozenAsync(_runtime.Context(current), false, cancellationToken).ConfigureAwait(false);
        BoxInfo? running;
        try
        {
            running = await Store.TryUpdateAsync(current with { State = BoxState.Running }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await TrySetFrozenAsync(current, true).ConfigureAwait(false);
            throw;
        }

        return running
            ?? await LookAsync(id, cancellationToken).ConfigureAwait(false)
            ?? throw new BoxNotFoundException(id.Value);
    }

    /// <summary>
    /// Remove: record, directory and containment. A live box is refused unless <paramref name="force"/>, which stops it
    /// at once first. Returns the reap report when something was reaped.
    /// </summary>
    public async Task<ReapReport?> RemoveAsync(BoxInfo info, bool force, CancellationToken cancellationToken)
    {
        // The first attempt works on the record just resolved; every retry reads it again.
        ReapReport? report = null;
        for (var attempt = 0; ; attempt++)
        {
            if (attempt > 0)
            {
                info = await Store.GetAsync(info.Id, cancellationToken).ConfigureAwait(false) ?? throw new BoxNotFoundException(info.Id.Value);
            }

            info = await NoticeExitAsync(info, cancellationToken).ConfigureAwait(false) ?? throw new BoxNotFoundException(info.Id.Value);
            if (info.State is BoxState.Running or BoxState.Paused or BoxState.Stopping or BoxState.Unknown)
            {
                if (!force)
                {
                    throw new InvalidBoxStateException(info.Id, info.State, "stop it first, or remove it with force");
                }

                // An unreadable record cannot be moved through stopping: the reap below takes whatever is left of it.
                if (!info.IsUnreadable)
                {
                    var stopped = await StopAsync(info.Id, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                    report = stopped.Report;
                    if (stopped.Final is null)
                    {
                        // An AutoRemove box removed itself once stopped.
                        return report;
                    }

                    continue;
                }
            }

            if (info.State == BoxState.Starting && IsAlive(info.Holder))
            {
                throw new InvalidBoxStateException(info.Id, info.State, "it is being started right now");
            }

            // Final (or never started): the reap is idempotent and removes leftover containment.
            var leftover = await ReapAsync(info, cancellationToken).ConfigureAwait(false);
            report ??= leftover.ProcessesKilled > 0 ? leftover : null;
            _runtime.Crash("remove:after-reap");
            if (await Store.TryDeleteAsync(info.Id, info.Version, cancellationToken).ConfigureAwait(false))
            {
                break;
            }

            if (attempt > 20)
            {
                throw new InvalidBoxStateException(info.Id, info.State, "the record kept changing during removal");
            }
        }

        _runtime.Crash("remove:after-record");
        _runtime.DeleteDirectory(info.Id);
        ForgetMonitor(info.Id);
        _outcomes.Publish(info.Id, null);
        Log.BoxRemoved(_runtime.Logger, info.Id);
        return report;
    }

    /// <summary>
    /// Reconcile one record with reality (G4): an exit nobody saw is recorded; an attached box whose owner died is
    /// reaped; a start or stop whose process died is finished (a start fails, a stop completes); an exited auto-remove
    /// box goes. A live box owned by a live process is left alone.
    /// </summary>
    public async Task<(BoxInfo? After, Reconciled What)> ReconcileAsync(BoxInfo info, CancellationToken cancellationToken)
    {
        switch (info.State)
        {
            case BoxState.Starting when !IsAlive(info.Holder):
                // Its starter died half-way: nothing of the command ran (no "go"); remove what was made.
                await ReapAsync(info, cancellationToken).ConfigureAwait(false);
                var failed = await Store.TryUpdateAsync(
                    info with { State = BoxState.Failed, Holder = null, StatusReason = "the runtime starting it died", FinishedAt = Time.GetUtcNow() },
                    cancellationToken).ConfigureAwait(false);
                return failed is null
                    ? (await LookAsync(info.Id, cancellationToken).ConfigureAwait(false), Reconciled.Nothing)
                    : (await FinishAsync(failed, null).ConfigureAwait(false), Reconciled.HalfStartedCleaned);

            case BoxState.Running or BoxState.Paused when HasExited(info):
                return (await NoticeExitAsync(info, cancellationToken).ConfigureAwait(false), Reconciled.ExitNoticed);

            case BoxState.Running or BoxState.Paused when !info.Detached && !IsAlive(info.Owner):
                return ((await StopAsync(info.Id, TimeSpan.Zero, cancellationToken).ConfigureAwait(false)).Final, Reconciled.OrphanReaped);

            case BoxState.Running or BoxState.Paused:
                return (info, Reconciled.StillRunning);

            case BoxState.Stopping when !IsAlive(info.Holder):
                return ((await StopAsync(info.Id, TimeSpan.Zero, cancellationToken).ConfigureAwait(false)).Final, Reconciled.StopFinished);

            case BoxState.Exited or BoxState.Failed when info.Options.AutoRemove:
                var kept = await AutoRemoveAsync(info).ConfigureAwait(false);
                return (kept, kept is null ? Reconciled.AutoRemoved : Reconciled.Nothing);

            default:
                return (info, Reconciled.Nothing);
        }
    }

    /// <summary>Removes the exited and failed boxes <paramref name="filter"/> keeps, then the home's empty parent containments.</summary>
    public async Task<PruneReport> PruneAsync(BoxFilter? filter, CancellationToken cancellationToken)
    {
        var removed = new List<BoxId>();
        foreach (var box in await ListAsync(filter, cancellationToken).ConfigureAwait(false))
        {
            if (!box.State.IsFinal())
            {
                continue;
            }

            try
            {
                await RemoveAsync(box, force: false, cancellationToken).ConfigureAwait(false);
                removed.Add(box.Id);
            }
            catch (BoxNotFoundException)
            {
                // Removed by someone else meanwhile.
            }
        }

        return new PruneReport(removed, (Platform as IContainmentLocator)?.RemoveEmptyParents() ?? 0);
    }

    /// <summary>
    /// Stops every attached box this runtime started: each gets its stop signal at once and its grace period, cut short
    /// when <paramref name="hurry"/> fires (reaped at once). Never throws: a box that cannot be stopped is logged. Calls
    /// while a shutdown stop is under way join it (and may hurry it).
    /// </summary>
    public async Task StopAttachedAsync(CancellationToken hurry)
    {
        // A box this runtime started keeps its monitor tracked until the box is final: those are the ones to stop.
        var attached = _monitors.Where(m => !m.Value.Detached).Select(m => m.Key).ToList();
        await Task.WhenAll(attached.Select(async id =>
        {
            try
            {
                await StopAsync(id, null, hurry).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BoxliteException or IOException or ObjectDisposedException)
            {
                Log.ShutdownStopFailed(_runtime.Logger, id, e.Message, e);
            }
        })).ConfigureAwait(false);
    }

    /// <summary>Stops the attached boxes, then waits for the work at hand; no new work starts after.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAttachedAsync(CancellationToken.None).ConfigureAwait(false);
        await _closing.CancelAsync().ConfigureAwait(false);
        await _work.CloseAsync().ConfigureAwait(false);
        foreach (var (monitor, _) in _monitors.Values)
        {
            monitor.Dispose();
        }

        _monitors.Clear();
        _closing.Dispose();
    }

    /// <summary>Reaps the box's tree through the platform's reaper, with telemetry: every reap of the runtime comes here.</summary>
    public async Task<ReapReport> ReapAsync(BoxInfo info, CancellationToken cancellationToken)
    {
        using var activity = BoxliteDiagnostics.ActivitySource.StartActivity("boxlite.reap");
        activity?.SetTag("boxlite.box.id", info.Id.Value);
        try
        {
            var report = await Platform.Reaper.ReapAsync(_runtime.Context(info), _runtime.Options.ReapTimeout, cancellationToken).ConfigureAwait(false);
            var method = new KeyValuePair<string, object?>("method", report.Method);
            _runtime.Metrics.Reaps.Add(1, method);
            _runtime.Metrics.ReapDuration.Record(report.Duration.TotalMilliseconds, method);
            _runtime.Metrics.ProcessesKilled.Add(report.ProcessesKilled, method);
            if (report.ProcessesKilled > 0)
            {
                Log.BoxReaped(_runtime.Logger, info.Id, report.Method, report.ProcessesKilled, report.Duration.TotalMilliseconds);
            }

            return report;
        }
        catch (ReapTimeoutException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            Log.ReapFailed(_runtime.Logger, info.Id, e.Message, e);
            throw;
        }
    }

    private async Task<StopResult> StopWorkAsync(BoxId id, TimeSpan? grace, CancellationToken hurry)
    {
        var delay = PollMin;
        long? deadline = null;
        while (true)
        {
            var current = await LookAsync(id, CancellationToken.None).ConfigureAwait(false) ?? throw new BoxNotFoundException(id.Value);
            switch (current.State)
            {
                case BoxState.Created or BoxState.Exited or BoxState.Failed:
                    return new StopResult(ReapReport.Nothing(Platform.Reaper.Name, Platform.Reaper.Guarantee), current);

                case BoxState.Starting when IsAlive(current.Holder):
                    throw new InvalidBoxStateException(id, current.State, "it is being started right now");

                case BoxState.Starting:
                    await ReconcileAsync(current, CancellationToken.None).ConfigureAwait(false);
                    continue;

                case BoxState.Stopping when IsAlive(current.Holder):
                    // Another process does the work (a stop of this process would have been joined): wait for its result.
                    var limit = (grace ?? _runtime.Options.DefaultStopTimeout) + _runtime.Options.ReapTimeout + TimeSpan.FromSeconds(5);
                    deadline ??= Time.GetTimestamp() + (long)(limit.TotalSeconds * Time.TimestampFrequency);
                    var left = TimeSpan.FromSeconds((deadline.Value - Time.GetTimestamp()) / (double)Time.TimestampFrequency);
                    if (left <= TimeSpan.Zero)
                    {
                        throw new InvalidBoxStateException(id, current.State, "another caller is stopping it and has not finished");
                    }

                    using (var stopWatching = new CancellationTokenSource())
                    {
                        await WhenStopMovesAsync(current, delay < left ? delay : left, left, stopWatching.Token).ConfigureAwait(false);
                        await stopWatching.CancelAsync().ConfigureAwait(false);
                    }

                    delay = delay * 2 > PollMax ? PollMax : delay * 2;
                    continue;

                case BoxState.Stopping:
                    // Its stopper died half-way: take its work over.
                    var taken = await Store.TryUpdateAsync(current with { Holder = Me }, CancellationToken.None).ConfigureAwait(false);
                    if (taken is not null)
                    {
                        return await CompleteStopAsync(taken, BoxState.Stopping, TimeSpan.Zero, hurry).ConfigureAwait(false);
                    }

                    continue;

                default:
                    // Running, Paused or Unknown: begin the stop (compare-and-set; whoever loses looks again).
                    var stopping = await Store.TryUpdateAsync(current with { State = BoxState.Stopping, Holder = Me }, CancellationToken.None).ConfigureAwait(false);
                    if (stopping is null)
                    {
                        continue;
                    }

                    _runtime.Crash("stop:after-stopping");
                    var graceNow = grace ?? current.Options.StopTimeout ?? _runtime.Options.DefaultStopTimeout;
                    return await CompleteStopAsync(stopping, current.State, graceNow, hurry).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Completes when another process's stop may have moved on: the stopper died, or the box's monitor exited (until
    /// then nothing is polled, up to <paramref name="longest"/>); after the monitor's exit the stopper only reaps and
    /// records, which is looked at again after <paramref name="poll"/>.
    /// </summary>
    private async Task WhenStopMovesAsync(BoxInfo stopping, TimeSpan poll, TimeSpan longest, CancellationToken cancellationToken)
    {
        var monitorAlive = stopping.Monitor is { } monitor && Platform.IsAlive(monitor);
        var watches = new List<Task> { Task.Delay(monitorAlive ? longest : poll, Time, cancellationToken) };
        if (monitorAlive)
        {
            watches.Add(Platform.WhenExitedAsync(stopping.Monitor!, cancellationToken));
        }

        if (stopping.Holder is { } holder)
        {
            watches.Add(Platform.WhenExitedAsync(holder, cancellationToken));
        }

        await Task.WhenAny(watches).ConfigureAwait(false);
    }

    /// <summary>
    /// Complete stop (held Stopping record → Exited): the stop signal and the grace period (best effort: whatever
    /// goes wrong there, the reap still comes), then the reap, authoritative; a reap with survivors leaves the box
    /// Unknown and throws (G2).
    /// </summary>
    private async Task<StopResult> CompleteStopAsync(BoxInfo stopping, BoxState was, TimeSpan grace, CancellationToken hurry)
    {
        var context = _runtime.Context(stopping);
        if (grace > TimeSpan.Zero && !hurry.IsCancellationRequested && stopping.Monitor is { } monitor && Platform.IsAlive(monitor))
        {
            try
            {
                if (was == BoxState.Paused)
                {
                    // A frozen command cannot act on its stop signal.
                    await Platform.SetFrozenAsync(context, false, CancellationToken.None).ConfigureAwait(false);
                }

                await Platform.SignalCommandAsync(context, stopping.Options.StopSignal, CancellationToken.None).ConfigureAwait(false);
                await Platform.WhenExitedAsync(monitor, hurry).WaitAsync(grace, Time, hurry).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or BoxliteException or IOException)
            {
                // The grace period ended (or was cut short, or the signal could not be given): the reap decides.
            }
        }

        ReapReport report;
        try
        {
            report = await ReapAsync(stopping, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // G2: never report success with survivors (or after a reap that failed otherwise); leave the box where a
            // later stop or remove can retry, not Stopping under a holder that is alive.
            var unknown = await Store.TryUpdateAsync(stopping with { State = BoxState.Unknown, Holder = null, StatusReason = e.Message }, CancellationToken.None).ConfigureAwait(false);
            if (unknown is not null)
            {
                _outcomes.Publish(unknown.Id, new BoxOutcome(unknown, null));
            }

            throw;
        }

        _runtime.Crash("stop:after-reap");
        var status = ExitStatus.TryRead(context);
        var exited = stopping with
        {
            State = BoxState.Exited,
            Holder = null,
            ExitCode = status?.Code ?? 128 + 9,
            KilledBy = status is null || status.Reason == ExitStatus.HostGone ? "KILL" : null,
            FinishedAt = Time.GetUtcNow(),
            StatusReason = report.OutOfMemoryReason ?? (status is null ? $"reaped by {report.Method}" : null),
        };
        var stored = await Store.TryUpdateAsync(exited, CancellationToken.None).ConfigureAwait(false)
            ?? throw new InvalidBoxStateException(stopping.Id, BoxState.Stopping, "the record changed while stopping");
        return new StopResult(report, await FinishAsync(stored, report).ConfigureAwait(false));
    }

    private async Task<BoxInfo?> FinalizeExitAsync(BoxId id)
    {
        var current = await Store.GetAsync(id, CancellationToken.None).ConfigureAwait(false);
        if (current is null || current.State is not (BoxState.Running or BoxState.Paused) || !HasExited(current))
        {
            return current;
        }

        // The monitor records the exit status as its last act and exits right after: once it is gone, the reap after a
        // clean exit has nothing of the box's own to kill.
        if (current.Monitor is { } monitor)
        {
            try
            {
                await Platform.WhenExitedAsync(monitor, CancellationToken.None).WaitAsync(MonitorExitBound, Time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }

        ReapReport report;
        try
        {
            report = await ReapAsync(current, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ReapTimeoutException e)
        {
            // Running would be a lie (the monitor is gone), and every look would reap again: Unknown until a remove.
            var unknown = await Store.TryUpdateAsync(current with { State = BoxState.Unknown, FinishedAt = Time.GetUtcNow(), StatusReason = e.Message }, CancellationToken.None).ConfigureAwait(false);
            if (unknown is not null)
            {
                _outcomes.Publish(unknown.Id, new BoxOutcome(unknown, null));
            }

            return unknown ?? await Store.GetAsync(id, CancellationToken.None).ConfigureAwait(false);
        }

        var status = ExitStatus.TryRead(_runtime.Context(current));
        var updated = status is null
            ? current with
            {
                State = BoxState.Unknown,
                FinishedAt = Time.GetUtcNow(),
                StatusReason = "the box monitor died without recording an exit status; its tree was reaped",
            }
            : current with
            {
                State = BoxState.Exited,
                ExitCode = status.Code,
                FinishedAt = Time.GetUtcNow(),
                KilledBy = status.Reason == ExitStatus.HostGone ? "KILL" : null,
                StatusReason = status.Reason == ExitStatus.HostGone ? "the runtime that owned this attached box died" : report.OutOfMemoryReason,
            };

        var stored = await Store.TryUpdateAsync(updated, CancellationToken.None).ConfigureAwait(false);
        return stored is null
            ? await Store.GetAsync(id, CancellationToken.None).ConfigureAwait(false)
            : await FinishAsync(stored, report).ConfigureAwait(false);
    }

    /// <summary>Failed start (Starting → Failed): nothing of the command ran (no "go"); whatever containment was made goes.</summary>
    private async Task FailStartAsync(BoxId id, Exception cause)
    {
        Log.BoxStartFailed(_runtime.Logger, id, cause.Message, cause);
        var current = await Store.GetAsync(id, CancellationToken.None).ConfigureAwait(false);
        if (current is not { State: BoxState.Starting })
        {
            return;
        }

        try
        {
            await ReapAsync(current, CancellationToken.None).ConfigureAwait(false);
        }
        catch (BoxliteException e)
        {
            Log.ReapFailed(_runtime.Logger, id, e.Message, e);
        }

        var failed = await Store.TryUpdateAsync(
            current with { State = BoxState.Failed, Holder = null, StatusReason = cause.Message, FinishedAt = Time.GetUtcNow() },
            CancellationToken.None).ConfigureAwait(false);
        if (failed is not null)
        {
            await FinishAsync(failed, null).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Every transition to an outcome ends here: the monitor handle goes, the waiters of this process complete with the
    /// record as made final, and an auto-remove box is removed. Returns null when removed.
    /// </summary>
    private async Task<BoxInfo?> FinishAsync(BoxInfo final, ReapReport? reap)
    {
        ForgetMonitor(final.Id);
        Log.BoxFinished(_runtime.Logger, final.Id, final.State, final.ExitCode);
        _outcomes.Publish(final.Id, new BoxOutcome(final, reap));
        return await AutoRemoveAsync(final).ConfigureAwait(false);
    }

    /// <summary>Removes an exited or failed auto-remove box; returns null when removed.</summary>
    private async Task<BoxInfo?> AutoRemoveAsync(BoxInfo info)
    {
        if (!info.Options.AutoRemove || !info.State.IsFinal())
        {
            return info;
        }

        if (await Store.TryDeleteAsync(info.Id, info.Version, CancellationToken.None).ConfigureAwait(false))
        {
            _runtime.DeleteDirectory(info.Id);
            Log.BoxRemoved(_runtime.Logger, info.Id);
            return null;
        }

        return await Store.GetAsync(info.Id, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Notices the exit of a box this process started without anybody having to ask.</summary>
    private void WatchExit(BoxInfo running)
    {
        _ = WatchAsync();

        async Task WatchAsync()
        {
            try
            {
                await Platform.WhenExitedAsync(running.Monitor!, _closing.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // Whoever looks next (wait, list, recovery) finalizes when this cannot (the runtime is closing).
            _work.TryStart(() => NoticeExitAsync(running, CancellationToken.None));
        }
    }

    private void ForgetMonitor(BoxId id)
    {
        if (_monitors.TryRemove(id, out var started))
        {
            started.Monitor.Dispose();
        }
    }

    /// <summary>Completes the waiters of a box a look found final or gone, unless an operation of this process will (with its reap).</summary>
    private void Observe(BoxId id, BoxInfo? record)
    {
        if (!_stops.IsRunning(id) && !_exits.IsRunning(id))
        {
            _outcomes.Observe(id, record);
            if (record is null || Outcomes.IsOutcome(record.State))
            {
                ForgetMonitor(id);
            }
        }
    }

    /// <summary>Undoes the freeze or thaw of a pause or resume that failed after it; false when that failed too.</summary>
    private async Task<bool> TrySetFrozenAsync(BoxInfo info, bool frozen)
    {
        try
        {
            await Platform.SetFrozenAsync(_runtime.Context(info), frozen, CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is BoxliteException or IOException or UnauthorizedAccessException or TimeoutException)
        {
            Log.FreezeUndoFailed(_runtime.Logger, info.Id, e.Message, e);
            return false;
        }
    }

    /// <summary>Takes a record back after a failure, which stays the one reported.</summary>
    private async Task TryUpdateQuietlyAsync(BoxInfo info)
    {
        try
        {
            await Store.TryUpdateAsync(info, CancellationToken.None).ConfigureAwait(false);
        }
        catch (BoxliteException)
        {
            // The record keeps saying Paused, which never hides a frozen box.
        }
    }

    private async Task<BoxInfo> RequireAsync(BoxId id, BoxState state, string what, CancellationToken cancellationToken)
    {
        var current = await LookAsync(id, cancellationToken).ConfigureAwait(false) ?? throw new BoxNotFoundException(id.Value);
        return current.State == state ? current : throw new InvalidBoxStateException(id, current.State, what);
    }

    private bool IsAlive(ProcessIdentity? identity) => identity is not null && Platform.IsAlive(identity);
}
