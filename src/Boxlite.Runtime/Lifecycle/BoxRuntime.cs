using System.Text;
using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Boxlite.Runtime;

/// <summary>
/// The runtime of one home: a facade over <see cref="BoxLifecycle"/> (every transition) talking to an
/// <see cref="IBoxPlatform"/> and an <see cref="IBoxStore"/>. OS-independent.
/// </summary>
internal sealed class BoxRuntime : IBoxRuntime
{
    private readonly bool _ownsStore;
    private int _disposed;

    /// <summary>
    /// Creates the runtime; with <paramref name="ownsStore"/> it disposes the store when it is disposed. Hosts build it
    /// through <see cref="BoxliteRuntimeBuilder"/> (which <c>AddBoxlite()</c> uses too).
    /// </summary>
    public BoxRuntime(BoxliteOptions options, IBoxStore store, IBoxPlatform platform, TimeProvider? time = null, ILoggerFactory? loggerFactory = null,
        bool ownsStore = false, BoxliteMetrics? metrics = null)
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
        Metrics = metrics ?? BoxliteMetrics.Shared;
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

        Lifecycle = new BoxLifecycle(this);
        Log.RuntimeStarted(Logger, home, platform.Name, platform.Reaper.Name, platform.Reaper.Guarantee);
    }

    internal BoxliteOptions Options { get; }

    internal IBoxStore Store { get; }

    internal IBoxPlatform Platform { get; }

    internal TimeProvider Time { get; }

    internal BoxliteMetrics Metrics { get; }

    internal ILogger Logger { get; }

    internal string BoxesDirectory { get; }

    internal BoxLifecycle Lifecycle { get; }

    /// <summary>Called at named steps of create/start/stop/remove; the crash-point test host kills itself here.</summary>
    internal Action<string>? CrashPoint { get; set; }

    public string ReaperName => Platform.Reaper.Name;

    public ReapGuarantee Guarantee => Platform.Reaper.Guarantee;

    public async Task<IBox> CreateAsync(BoxOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfDisposed();
        return new Box(this, await Lifecycle.CreateAsync(options, cancellationToken).ConfigureAwait(false));
    }

    public Task<IBox> RunAsync(BoxOptions options, CancellationToken cancellationToken = default) => RunAsync(options, null, cancellationToken);

    public async Task<IBox> RunAsync(BoxOptions options, BoxInput? stdin, CancellationToken cancellationToken = default)
    {
        var box = await CreateAsync(options, cancellationToken).ConfigureAwait(false);
        await box.StartAsync(stdin, cancellationToken).ConfigureAwait(false);
        return box;
    }

    public async Task<BoxRunResult> RunToCompletionAsync(BoxOptions options, BoxInput? stdin = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (timeout is { } limit && limit < TimeSpan.Zero && limit != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the timeout must be positive or infinite");
        }

        // Removed here, after its output is read, rather than by auto-remove.
        var box = (Box)await CreateAsync(options with { AutoRemove = false }, cancellationToken).ConfigureAwait(false);
        BoxRunResult result;
        try
        {
            result = await CompleteRunAsync(box, stdin, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await RemoveQuietlyAsync(box.Id).ConfigureAwait(false);
            throw;
        }

        await RemoveAsync(box.Id, force: true, CancellationToken.None).ConfigureAwait(false);
        return result;
    }

    public async Task<IBox> GetAsync(string idOrName, CancellationToken cancellationToken = default)
    {
        var info = await ResolveAsync(idOrName, cancellationToken).ConfigureAwait(false);
        return await HandleAsync(info, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IBox> GetAsync(BoxId id, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var info = await Store.GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw new BoxNotFoundException(id.Value);
        return await HandleAsync(info, cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<BoxInfo>> ListAsync(CancellationToken cancellationToken) => ListAsync(null, cancellationToken);

    public Task<IReadOnlyList<BoxInfo>> ListAsync(BoxFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return Lifecycle.ListAsync(filter, cancellationToken);
    }

    public async Task<ReapReport?> RemoveAsync(string idOrName, bool force = false, CancellationToken cancellationToken = default)
    {
        var info = await ResolveAsync(idOrName, cancellationToken).ConfigureAwait(false);
        return await Lifecycle.RemoveAsync(info, force, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReapReport?> RemoveAsync(BoxId id, bool force = false, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var info = await Store.GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw new BoxNotFoundException(id.Value);
        return await Lifecycle.RemoveAsync(info, force, cancellationToken).ConfigureAwait(false);
    }

    public Task<PruneReport> PruneAsync(BoxFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return Lifecycle.PruneAsync(filter, cancellationToken);
    }

    public Task<RecoveryReport> RecoverAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return new Recovery(this).RunAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Lifecycle.DisposeAsync().ConfigureAwait(false);
        if (_ownsStore)
        {
            Store.Dispose();
        }
    }

    /// <summary>
    /// Host shutdown: every attached box this runtime started gets its stop signal at once and its grace period, cut
    /// short when <paramref name="hurry"/> fires (the host's shutdown timeout): then it is reaped at once. Never throws,
    /// cancellation included; calling it again joins the stops under way (and may hurry them).
    /// </summary>
    internal Task StopAttachedAsync(CancellationToken hurry) =>
        Volatile.Read(ref _disposed) != 0 ? Task.CompletedTask : Lifecycle.StopAttachedAsync(hurry);

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

    internal void Crash(string point) => CrashPoint?.Invoke(point);

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

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

    /// <summary>A handle on a box: one that is not final yet holds its outcome from now on.</summary>
    private async Task<IBox> HandleAsync(BoxInfo info, CancellationToken cancellationToken)
    {
        var outcome = Outcomes.IsOutcome(info.State) ? null : Lifecycle.OutcomeOf(info.Id);
        var box = new Box(this, info, outcome);
        await box.RefreshAsync(cancellationToken).ConfigureAwait(false);
        return box;
    }

    private async Task<BoxRunResult> CompleteRunAsync(Box box, BoxInput? stdin, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var started = Time.GetTimestamp();
        await box.StartAsync(stdin, cancellationToken).ConfigureAwait(false);
        var timedOut = false;
        ReapReport? stopReap = null;
        BoxOutcome outcome;
        try
        {
            var wait = Lifecycle.WaitAsync(box.Id, box.OutcomeTask, cancellationToken);
            outcome = timeout is { } limit && limit != Timeout.InfiniteTimeSpan
                ? await wait.WaitAsync(limit, Time, cancellationToken).ConfigureAwait(false)
                : await wait.ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            timedOut = true;
            stopReap = (await Lifecycle.StopAsync(box.Id, null, cancellationToken).ConfigureAwait(false)).Report;
            outcome = await Lifecycle.WaitAsync(box.Id, box.OutcomeTask, CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Cancelled: the box is reaped at once (and removed by the caller).
            await Lifecycle.StopAsync(box.Id, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var duration = Time.GetElapsedTime(started);
        var exitCode = Box.ExitCodeOf(outcome.Record);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        await foreach (var line in box.ReadLogsAsync(follow: false, CancellationToken.None).ConfigureAwait(false))
        {
            (line.Source == BoxLogSource.StandardOutput ? stdout : stderr).Append(line.Text).Append('\n');
        }

        return new BoxRunResult
        {
            Id = box.Id,
            ExitCode = exitCode,
            StandardOutput = stdout.ToString(),
            StandardError = stderr.ToString(),
            Duration = duration,
            Reap = stopReap ?? outcome.Reap ?? ReapReport.Nothing(Platform.Reaper.Name, Platform.Reaper.Guarantee),
            TimedOut = timedOut,
        };
    }

    private async Task RemoveQuietlyAsync(BoxId id)
    {
        try
        {
            await RemoveAsync(id, force: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (BoxliteException)
        {
            // The original failure is the one to report.
        }
    }

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
}
