using System.Collections.Concurrent;
using System.Diagnostics;
using Boxlite.Runtime.Launch;
using Boxlite.Runtime.Monitor;
using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Boxlite.Runtime;

/// <summary>The lifecycle orchestration: OS-independent, talking to an <see cref="IBoxPlatform"/> and an <see cref="IBoxStore"/>.</summary>
internal sealed class BoxRuntime : IBoxRuntime
{
    /// <summary>Marks a created box whose start is under way (with <see cref="BoxInfo.Owner"/> the starter).</summary>
    internal const string StartingReason = "starting";

    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<BoxId, MonitorProcess> _monitors = new();
    private readonly ConcurrentDictionary<BoxId, SemaphoreSlim> _locks = new();
    private readonly CancellationTokenSource _disposing = new();
    private int _exitWatchersAtWork;
    private readonly bool _ownsStore;
    private int _disposed;

    /// <summary>Creates the runtime; with <paramref name="ownsStore"/> it disposes the store when it is disposed.</summary>
    public BoxRuntime(BoxliteOptions options, IBoxStore store, IBoxPlatform platform, TimeProvider? time = null, ILoggerFactory? loggerFactory = null, bool ownsStore = false)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new InvalidBoxOptionsException(problems);
        }

        Options = options;
        Store = store;
        _ownsStore = ownsStore;
        Platform = platform;
        Time = time ?? TimeProvider.System;
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Boxlite.Runtime");
        var home = options.ResolvedHomeDirectory;
        BoxesDirectory = Path.Combine(home, BoxliteHome.BoxesDirectoryName);
        try
        {
            BoxliteHome.Prepare(home);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PlatformCapabilityException($"cannot prepare the Boxlite home {home}: {e.Message}", "make its parent directory writable by this user, or choose another home", e);
        }

        Log.RuntimeStarted(Logger, home, platform.Name, platform.Reaper.Name, platform.Reaper.Guarantee);
    }

    internal BoxliteOptions Options { get; }

    internal IBoxStore Store { get; }

    internal IBoxPlatform Platform { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal string BoxesDirectory { get; }

    /// <summary>Called at named steps of create/start/stop/remove; the crash-point test host kills itself here.</summary>
    internal Action<string>? CrashPoint { get; set; }

    public string ReaperName => Platform.Reaper.Name;

    public ReapGuarantee Guarantee => Platform.Reaper.Guarantee;

    public async Task<IBox> CreateAsync(BoxOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfDisposed();
        ThrowIfInvalid(options.Validate());

        // G5 for the command: it must be there to run, before anything exists (by default it starts in a fresh, empty
        // work directory).
        ThrowIfInvalid(BoxEnvironment.CommandProblems(options, options.Command, options.WorkingDirectory));
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
        Crash("create:after-insert");
        try
        {
            CreateBoxDirectories(info.Id);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Store.TryDeleteAsync(info.Id, info.Version, CancellationToken.None).ConfigureAwait(false);
            throw new PlatformCapabilityException($"cannot create the box directory {DirectoryOf(info.Id)}: {e.Message}", "make the Boxlite home writable", e);
        }

        Log.BoxCreated(Logger, info.Id, options.Command, options.Isolation, options.Detached);
        return new Box(this, info);
    }

    public async Task<IBox> RunAsync(BoxOptions options, CancellationToken cancellationToken = default)
    {
        var box = await CreateAsync(options, cancellationToken).ConfigureAwait(false);
        await box.StartAsync(cancellationToken).ConfigureAwait(false);
        return box;
    }

    public async Task<IBox> GetAsync(string idOrName, CancellationToken cancellationToken = default)
    {
        var info = await ResolveAsync(idOrName, cancellationToken).ConfigureAwait(false);
        var box = new Box(this, info);
        await box.RefreshAsync(cancellationToken).ConfigureAwait(false);
        return box;
    }

    public async Task<IReadOnlyList<BoxInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var records = await Store.ListAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<BoxInfo>(records.Count);
        foreach (var info in records)
        {
            // Notice exits nobody watched; an auto-removed box drops out of the list.
            var current = info.State is BoxState.Running or BoxState.Paused && HasFinished(info)
                ? await FinalizeExitAsync(info, cancellationToken).ConfigureAwait(false)
                : info;
            if (current is not null)
            {
                result.Add(current);
            }
        }

        return result;
    }

    public async Task<ReapReport?> RemoveAsync(string idOrName, bool force = false, CancellationToken cancellationToken = default)
    {
        var info = await ResolveAsync(idOrName, cancellationToken).ConfigureAwait(false);
        return await RemoveAsync(info, force, cancellationToken).ConfigureAwait(false);
    }

    internal async Task<ReapReport?> RemoveAsync(BoxInfo info, bool force, CancellationToken cancellationToken)
    {
        // The first attempt works on the record just resolved; every retry reads it again.
        ReapReport? report = null;
        for (var attempt = 0; ; attempt++)
        {
            if (attempt > 0)
            {
                info = await Store.GetAsync(info.Id, cancellationToken).ConfigureAwait(false) ?? throw new BoxNotFoundException(info.Id.Value);
            }

            if (info.State is BoxState.Running or BoxState.Paused && HasFinished(info))
            {
                info = await FinalizeExitAsync(info, cancellationToken).ConfigureAwait(false) ?? throw new BoxNotFoundException(info.Id.Value);
            }

            if (info.State is BoxState.Running or BoxState.Paused or BoxState.Stopping or BoxState.Unknown)
            {
                if (!force)
                {
                    throw new InvalidBoxStateException(info.Id, info.State, "stop it first, or remove it with force");
                }

                // An unreadable record cannot be moved through stopping: the reap below takes whatever is left of it.
                if (!info.IsUnreadable)
                {
                    report = await KillAsync(info, cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }

            if (info.State == BoxState.Created && info.StatusReason == StartingReason && info.Owner is { } starter && Platform.IsAlive(starter))
            {
                throw new InvalidBoxStateException(info.Id, info.State, "it is being started right now");
            }

            // Final (or never started): the reap is idempotent and removes leftover containment.
            var leftover = await Platform.Reaper.ReapAsync(Context(info), Options.ReapTimeout, cancellationToken).ConfigureAwait(false);
            report ??= leftover.ProcessesKilled > 0 ? leftover : null;
            Crash("remove:after-reap");
            if (await Store.TryDeleteAsync(info.Id, info.Version, cancellationToken).ConfigureAwait(false))
            {
                break;
            }

            if (attempt > 20)
            {
                throw new InvalidBoxStateException(info.Id, info.State, "the record kept changing during removal");
            }
        }

        Crash("remove:after-record");
        DeleteDirectory(info.Id);
        ForgetMonitor(info.Id);
        _locks.TryRemove(info.Id, out _);
        Log.BoxRemoved(Logger, info.Id);
        return report;
    }

    public Task<RecoveryReport> RecoverAsync(CancellationToken cancellationToken = default) =>
        new Recovery(this).RunAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAttachedAsync(CancellationToken.None).ConfigureAwait(false);
        await _disposing.CancelAsync().ConfigureAwait(false);

        // An exit watcher that started before the cancellation may still use the store: let it finish first.
        while (Volatile.Read(ref _exitWatchersAtWork) > 0)
        {
            await Task.Delay(1).ConfigureAwait(false);
        }

        foreach (var monitor in _monitors.Values)
        {
            monitor.Dispose();
        }

        _monitors.Clear();
        _disposing.Dispose();
        if (_ownsStore)
        {
            Store.Dispose();
        }
    }

    /// <summary>Stops every attached box this runtime started (graceful host shutdown).</summary>
    internal async Task StopAttachedAsync(CancellationToken cancellationToken)
    {
        // A box this runtime started keeps its monitor tracked until the box is final: with none tracked (a runtime
        // that only listed or read boxes) there is nothing to stop, and no need to read every record.
        if (_monitors.IsEmpty)
        {
            return;
        }

        var me = Platform.CurrentProcess;
        var records = await Store.ListAsync(cancellationToken).ConfigureAwait(false);
        var attached = records.Where(b => !b.Detached && BoxStateMachine.IsLive(b.State) && b.Owner == me && _monitors.ContainsKey(b.Id)).ToList();
        await Task.WhenAll(attached.Select(async b =>
        {
            try
            {
                await new Box(this, b).StopAsync(null, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BoxliteException or IOException)
            {
                Log.ShutdownStopFailed(Logger, b.Id, e.Message, e);
            }
        })).ConfigureAwait(false);
    }

    internal string DirectoryOf(BoxId id) => Path.Combine(BoxesDirectory, id.Value);

    /// <summary>Creates the box directory (its control part) and the command's work directory in it, both the owner's only.</summary>
    internal void CreateBoxDirectories(BoxId id)
    {
        BoxliteHome.CreatePrivateDirectory(DirectoryOf(id));
        BoxliteHome.CreatePrivateDirectory(Path.Combine(DirectoryOf(id), BoxContext.WorkDirectoryName));
    }

    /// <summary>Throws <see cref="InvalidBoxOptionsException"/> listing <paramref name="problems"/>, if any.</summary>
    internal static void ThrowIfInvalid(IReadOnlyList<string> problems)
    {
        if (problems.Count > 0)
        {
            throw new InvalidBoxOptionsException(problems);
        }
    }

    internal BoxContext Context(BoxInfo info) => new(info, DirectoryOf(info.Id));

    internal bool IsMonitorAlive(BoxInfo info) => info.Monitor is { } monitor && Platform.IsAlive(monitor);

    /// <summary>True once the command of a started box is done: its exit status is written, or its monitor is gone.</summary>
    internal bool HasFinished(BoxInfo info) => !IsMonitorAlive(info) || ExitStatus.TryRead(Context(info)) is not null;

    internal void Crash(string point) => CrashPoint?.Invoke(point);

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    internal async Task<IDisposable> LockAsync(BoxId id, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(gate);
    }

    internal void TrackMonitor(BoxInfo info, MonitorProcess monitor)
    {
        _monitors[info.Id] = monitor;

        // Notice the exit of a box this process started without anybody having to ask.
        _ = monitor.Exited.ContinueWith(
            async _ =>
            {
                Interlocked.Increment(ref _exitWatchersAtWork);
                try
                {
                    if (_disposing.IsCancellationRequested)
                    {
                        return;
                    }

                    // Reads the record under the box's lock; a box already finalized or removed is left alone.
                    await FinalizeExitAsync(info, _disposing.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or BoxliteException or IOException)
                {
                    // Whoever looks next (wait, list, recovery) finalizes instead.
                }
                finally
                {
                    Interlocked.Decrement(ref _exitWatchersAtWork);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    internal MonitorProcess? MonitorOf(BoxId id) => _monitors.TryGetValue(id, out var m) ? m : null;

    internal void ForgetMonitor(BoxId id)
    {
        if (_monitors.TryRemove(id, out var monitor))
        {
            monitor.Dispose();
        }
    }

    /// <summary>
    /// Records the exit of a box whose monitor is gone: reaps what is left (confirmed), then Running/Paused → Exited
    /// (or Unknown when no exit status was written). Returns the new record, or null when the box was auto-removed.
    /// </summary>
    internal async Task<BoxInfo?> FinalizeExitAsync(BoxInfo info, CancellationToken cancellationToken)
    {
        using (await LockAsync(info.Id, cancellationToken).ConfigureAwait(false))
        {
            var current = await Store.GetAsync(info.Id, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return null;
            }

            if (current.State is not (BoxState.Running or BoxState.Paused) || !HasFinished(current))
            {
                return current;
            }

            var context = Context(current);
            await LetMonitorFinishAsync(current, cancellationToken).ConfigureAwait(false);
            var report = await ReapAsync(current, cancellationToken).ConfigureAwait(false);
            var status = ExitStatus.TryRead(context);
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

            var stored = await Store.TryUpdateAsync(updated, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                return await Store.GetAsync(info.Id, cancellationToken).ConfigureAwait(false);
            }

            ForgetMonitor(info.Id);
            Log.BoxExited(Logger, stored.Id, stored.ExitCode);
            return await AutoRemoveAsync(stored, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The monitor records the exit status as its last act and exits right after: give it a moment to be gone, so the
    /// reap after a clean exit has nothing of the box's own to kill.
    /// </summary>
    private async Task LetMonitorFinishAsync(BoxInfo info, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(1);
        var deadline = Time.GetTimestamp() + Time.TimestampFrequency;
        while (IsMonitorAlive(info) && Time.GetTimestamp() < deadline)
        {
            await Task.Delay(delay, Time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 50));
        }
    }

    /// <summary>Removes an exited auto-remove box; returns null when removed.</summary>
    internal async Task<BoxInfo?> AutoRemoveAsync(BoxInfo info, CancellationToken cancellationToken)
    {
        if (!info.Options.AutoRemove || !BoxStateMachine.IsFinal(info.State))
        {
            return info;
        }

        if (await Store.TryDeleteAsync(info.Id, info.Version, cancellationToken).ConfigureAwait(false))
        {
            DeleteDirectory(info.Id);
            Log.BoxRemoved(Logger, info.Id);
            return null;
        }

        return await Store.GetAsync(info.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reaps the box's tree through the platform's reaper, with telemetry.</summary>
    internal async Task<ReapReport> ReapAsync(BoxInfo info, CancellationToken cancellationToken)
    {
        using var activity = BoxliteDiagnostics.ActivitySource.StartActivity("boxlite.reap");
        activity?.SetTag("boxlite.box.id", info.Id.Value);
        try
        {
            var report = await Platform.Reaper.ReapAsync(Context(info), Options.ReapTimeout, cancellationToken).ConfigureAwait(false);
            var method = new KeyValuePair<string, object?>("method", report.Method);
            BoxliteDiagnostics.Reaps.Add(1, method);
            BoxliteDiagnostics.ReapDuration.Record(report.Duration.TotalMilliseconds, method);
            BoxliteDiagnostics.ProcessesKilled.Add(report.ProcessesKilled, method);
            if (report.ProcessesKilled > 0)
            {
                Log.BoxReaped(Logger, info.Id, report.Method, report.ProcessesKilled, report.Duration.TotalMilliseconds);
            }

            return report;
        }
        catch (ReapTimeoutException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            Log.ReapFailed(Logger, info.Id, e.Message, e);
            throw;
        }
    }

    /// <summary>Force path: Running/Paused/Unknown → Stopping → reap at once → Exited (killed).</summary>
    internal Task<ReapReport> KillAsync(BoxInfo info, CancellationToken cancellationToken) =>
        new Box(this, info).StopAsync(TimeSpan.Zero, cancellationToken);

    private async Task<BoxInfo> ResolveAsync(string idOrName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(idOrName);
        ThrowIfDisposed();
        if (BoxId.TryParse(idOrName, out var id))
        {
            var byId = await Store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (byId is not null)
            {
                return byId;
            }
        }

        if (BoxOptions.IsValidName(idOrName))
        {
            var byName = await Store.GetByNameAsync(idOrName, cancellationToken).ConfigureAwait(false);
            if (byName is not null)
            {
                return byName;
            }
        }

        if (idOrName.Length > 0 && idOrName.Length < BoxId.Length && BoxId.IsIdText(idOrName))
        {
            var matches = await Store.FindByIdPrefixAsync(idOrName, cancellationToken).ConfigureAwait(false);
            if (matches.Count == 1)
            {
                return matches[0];
            }

            if (matches.Count > 1)
            {
                throw new AmbiguousBoxReferenceException(idOrName, matches.Select(m => m.Id).ToList());
            }
        }

        throw new BoxNotFoundException(idOrName.Length > 80 ? idOrName[..80] + "…" : idOrName);
    }

    internal void DeleteDirectory(BoxId id)
    {
        try
        {
            Directory.Delete(DirectoryOf(id), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
